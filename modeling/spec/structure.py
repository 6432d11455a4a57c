"""Structural validation: the JSON Schema pass, then the pydantic pass, as located diagnostics.

The JSON Schema pass runs first and reports every structural problem with its data path; the
pydantic pass then builds the typed spec and only contributes errors jsonschema could not
express (e.g. `list<strin>`), because any pydantic error whose path overlaps a path already
reported is dropped. So each problem is reported once, by whichever pass saw it first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from pydantic import ValidationError as PydanticError

from modeling.core.diagnostics import Diagnostics
from modeling.core.ir import TypeRef
from modeling.spec.loader import Path, Positions
from modeling.spec.model import COMMON_TYPES, NAME_RULES, ModelSpec
from modeling.spec.schema import model_schema


@dataclass(frozen=True)
class Problem:
    """One structural problem before it is located: `at_key` points at the key, else the value."""

    code: str
    path: Path
    message: str
    hint: str | None = None
    at_key: bool = False


# --------------------------------------------------------------------------- wording


def describe_path(path: Path) -> str:
    """Human words for a data path: ("entities", "Brand", "key") → "`key` of entity 'Brand'"."""
    p = list(path)
    if not p:
        return "the model"
    if p[0] == "entities" and len(p) >= 2:
        ent = f"entity {p[1]!r}"
        if len(p) == 2:
            return ent
        if p[2] == "attributes" and len(p) >= 4:
            attr = f"attribute {p[3]!r} of {ent}"
            if len(p) == 4:
                return attr
            return f"`{_dotted(p[4:])}` of {attr}"
        return f"`{_dotted(p[2:])}` of {ent}"
    if p[0] == "access_patterns" and len(p) >= 2:
        pat = f"pattern {p[1]!r}"
        if len(p) == 2:
            return pat
        return f"`{_dotted(p[2:])}` of {pat}"
    return f"`{_dotted(p)}`"


def _dotted(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# why a value has a length limit, by the key that holds it
_MAX_HINTS = {
    "model": "a model name names directories (generated/<model>/, the docs site) and is the "
    "table's `modeling:model` tag value: use a shorter name",
    "entities": "an entity name names its docs page (`entities/<Entity>.md`): use a shorter name",
    "entity": "an entity name names its docs page (`entities/<Entity>.md`): use a shorter name",
    "parent": "an entity name names its docs page (`entities/<Entity>.md`): use a shorter name",
    "references": "an entity name names its docs page (`entities/<Entity>.md`): use a shorter name",
}

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false)",
    "array": "a list",
    "object": "a mapping",
    "null": "empty",
}


def describe_value(value: Any) -> str:
    """What a YAML value is, in words used by "got ..." messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})" if len(value) <= 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """A "did you mean" hint, or None when nothing is close."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return None


def _choices_hint(word: str, choices: Iterable[str], label: str) -> str:
    options = sorted(set(choices))
    return suggest(word, options) or f"{label}: " + ", ".join(options)


# --------------------------------------------------------------------------- jsonschema pass


def _type_names(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return [str(x) for x in t]
    if isinstance(t, str):
        return [t]
    if "$ref" in schema:
        return ["object"]
    if "anyOf" in schema:
        return [n for b in schema["anyOf"] for n in _type_names(b)]
    return []


def _expected(names: Iterable[str]) -> str:
    words = list(dict.fromkeys(_JSON_TYPES.get(n, n) for n in names))
    return " or ".join(words) if words else "a different value"


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = model_schema()["$defs"][ref.split("/")[-1]]
        return resolved
    return schema


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    groups: dict[int, list[ValidationError]] = {}
    for sub in error.context or []:
        groups.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    return [errs for _, errs in sorted(groups.items())]


def _branch_fits(errors: list[ValidationError]) -> bool:
    """A union branch "fits" when the value has its basic shape (errors, if any, are inside)."""
    for e in errors:
        if e.relative_path:
            continue
        if e.validator == "type":
            return False
        if e.validator in ("anyOf", "oneOf") and not any(_branch_fits(b) for b in _branches(e)):
            return False
    return True


def _type_problem(path: Path, value: Any) -> Problem:
    if not isinstance(value, str):
        return Problem(
            "wrong-type",
            path,
            f"{describe_path(path)} must be a type name (string), not {describe_value(value)}",
            "e.g. `string`, `integer`, `datetime`, `list<string>`",
        )
    try:
        TypeRef.parse(value)
        reason = f"unknown type {value!r}"
    except ValueError as exc:
        reason = str(exc)
    return Problem(
        "unknown-type",
        path,
        f"{describe_path(path)}: {reason}",
        _choices_hint(value, COMMON_TYPES, "types are")
        if suggest(value, COMMON_TYPES)
        else "types are string, integer, decimal, float, boolean, date, datetime, uuid, binary, map, list<T>, set<T>",
    )


def _translate(error: ValidationError) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance
    expected_value: Any = error.validator_value
    if schema.get("title") == "TypeName" and validator in ("anyOf", "type", "enum", "pattern"):
        yield _type_problem(path, instance)
        return
    if validator == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield Problem(
                    "unknown-key",
                    (*path, key),
                    f"unknown key {key!r} in {describe_path(path)}",
                    _choices_hint(key, allowed, "allowed keys are"),
                    at_key=True,
                )
        return
    if validator == "required":
        for key in expected_value:
            if isinstance(instance, dict) and key not in instance:
                yield Problem(
                    "missing-key",
                    (*path, key),
                    f"{describe_path(path)} is missing the required key {key!r}",
                    _add_hint(key, _resolve(schema)),
                    at_key=True,
                )
        return
    if validator == "type":
        hint = "give it a value or remove the key" if instance is None else None
        yield Problem(
            "wrong-type",
            path,
            f"{describe_path(path)} must be {_expected(_type_names(schema))}, not {describe_value(instance)}",
            hint,
        )
        return
    if validator in ("enum", "const"):
        options = [str(o) for o in (expected_value if validator == "enum" else [expected_value])]
        yield Problem(
            "invalid-value",
            path,
            f"invalid value {instance!r} for {describe_path(path)}; expected one of: "
            + ", ".join(options),
            suggest(str(instance), options),
        )
        return
    if validator == "pattern":
        if list(error.schema_path)[-2:-1] == ["propertyNames"] or "propertyNames" in list(
            error.relative_schema_path
        ):
            yield Problem(
                "invalid-name",
                (*path, instance),
                f"invalid name {instance!r} in {describe_path(path)}",
                NAME_RULES.get(str(expected_value), f"it must match {expected_value}"),
                at_key=True,
            )
            return
        yield Problem(
            "invalid-name",
            path,
            f"invalid name {instance!r} for {describe_path(path)}",
            NAME_RULES.get(str(expected_value), f"it must match {expected_value}"),
        )
        return
    if validator in ("minimum", "exclusiveMinimum", "maximum"):
        yield Problem(
            "invalid-value",
            path,
            f"{describe_path(path)} is {instance!r}; {error.message.split(' is ', 1)[-1]}",
            f"use at most {_plain(expected_value)}: the output cannot carry a larger number "
            "(DynamoDB's API, CloudFormation, PostgreSQL's statistics)"
            if validator == "maximum"
            else None,
        )
        return
    if validator in ("minItems", "minProperties", "minLength"):
        what = {"minItems": "list", "minProperties": "mapping", "minLength": "text"}[validator]
        yield Problem(
            "invalid-value",
            path,
            f"{describe_path(path)} is an empty {what}",
            "give at least one entry or remove the key",
        )
        return
    if validator in ("maxItems", "maxProperties", "maxLength"):
        what = {"maxItems": "entries", "maxProperties": "keys", "maxLength": "characters"}[
            validator
        ]
        if "propertyNames" in list(error.relative_schema_path):  # a name (a mapping's key)
            yield Problem(
                "invalid-name",
                (*path, instance),
                f"the name {instance[:40]!r}... in {describe_path(path)} has {len(instance)} "
                f"{what}; at most {expected_value}",
                _MAX_HINTS.get(str(path[-1]) if path else "", "use a shorter name"),
                at_key=True,
            )
            return
        yield Problem(
            "invalid-value",
            path,
            f"{describe_path(path)} has {len(instance)} {what}; at most {expected_value}",
            _MAX_HINTS.get(str(path[-1]) if path else "", "shorten it"),
        )
        return
    if validator in ("anyOf", "oneOf"):
        fitting = [errs for errs in _branches(error) if _branch_fits(errs)]
        if len(fitting) == 1:
            for sub in fitting[0]:
                sub_path = (*path, *sub.relative_path)
                sub.path.clear()  # re-anchor the sub-error at its absolute path
                sub.path.extend(sub_path)
                yield from _translate_at(sub, sub_path)
            return
        if not fitting:
            names = [n for b in expected_value for n in _type_names(b)]
            yield Problem(
                "wrong-type",
                path,
                f"{describe_path(path)} must be {_expected(names)}, not {describe_value(instance)}",
                "give it a value or remove the key" if instance is None else None,
            )
            return
        best = jsonschema.exceptions.best_match(e for errs in fitting for e in errs)
        if best is not None:
            yield from _translate_at(best, (*path, *best.relative_path))
            return
    yield Problem("wrong-type", path, f"{describe_path(path)}: {error.message}")


def _add_hint(key: str, schema: dict[str, Any]) -> str:
    described = schema.get("properties", {}).get(key, {}).get("description")
    return f"add `{key}:` — {described}" if described else f"add `{key}:`"


def _translate_at(error: ValidationError, path: Path) -> Iterator[Problem]:
    """Translate a sub-error of anyOf whose `absolute_path` is relative to its parent."""
    error.path.clear()
    error.path.extend(path)
    error.parent = None  # absolute_path now equals path
    yield from _translate(error)


def schema_problems(data: Any) -> list[Problem]:
    if _Memo(model_schema()).valid(data, model_schema()):
        return []  # the common case; equal to the full pass (tests/spec/test_schema_fast.py)
    validator = jsonschema.Draft202012Validator(model_schema())
    problems: list[Problem] = []
    seen: set[Problem] = set()  # a list's `in` was quadratic: 20,000 unknown keys took minutes
    for error in sorted(
        validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    ):
        for problem in _translate(error):
            if problem not in seen:
                seen.add(problem)
                problems.append(problem)
    return problems


# keywords an object schema may have for `_Memo` to check it part by part; with any other
# (anyOf, patternProperties, ...) the whole value is validated by jsonschema
_ANNOTATIONS = frozenset(
    ["description", "title", "default", "$schema", "$id", "$defs", "x-schema-version"]
)
_SPLIT = frozenset(
    ["type", "properties", "additionalProperties", "propertyNames", "minProperties", "required"]
)
# a string schema (`type: string` or no type) of these keywords is checked by `_Memo._string`;
# an `anyOf` alone is valid when one of its branches is (each checked by `_Memo.valid`)
_STRING = frozenset(["type", "pattern", "minLength", "maxLength", "enum", "const"])
_ANY_OF = frozenset(["anyOf"])


class _Memo:
    """Whether a document is valid against the model schema, in time linear in the document.

    jsonschema spent ~0.7 ms per entity of a seeded model (issue 18: the largest part of
    loading a 50,000-table model) though most of it validates the same few attribute specs
    again and again. An object schema made only of `type: object`, `properties`,
    `additionalProperties`, `propertyNames`, `minProperties` and `required` is checked here
    keyword by keyword (what JSON Schema defines each to mean: together, they are the schema),
    each property value against its own subschema; any other subschema is validated by
    jsonschema once per distinct (subschema, value) and the answer remembered. Only the yes/no
    answer: when it is no, `schema_problems` runs the full pass for the located problems."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.answers: dict[tuple[int, Any], bool] = {}
        self.validators: dict[int, Any] = {}
        self.patterns: dict[str, re.Pattern[str]] = {}

    def valid(self, value: Any, schema: Any) -> bool:
        if isinstance(schema, bool):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str) and len(schema) == 1 and ref.startswith("#/$defs/"):
            schema = self.root["$defs"][ref.removeprefix("#/$defs/")]
        keys = schema.keys()
        if schema.get("type") == "object" and keys <= _SPLIT | _ANNOTATIONS:
            return self._object(value, schema)
        if (
            keys <= _STRING | _ANNOTATIONS
            and schema.get("type", "string") == "string"
            and (isinstance(value, str) or "type" in schema)
        ):
            return self._string(value, schema)
        if "anyOf" in schema and keys <= _ANY_OF | _ANNOTATIONS:
            return any(self.valid(value, branch) for branch in schema["anyOf"])
        return self._leaf(value, schema)

    def _string(self, value: Any, schema: dict[str, Any]) -> bool:
        """A string schema, keyword by keyword as jsonschema checks them: `type: string`;
        `pattern` is `re.search` (jsonschema's own), `minLength`/`maxLength` count code points,
        `enum`/`const` compare equal (a str equals only a str). Called for a string, or for
        any value when the schema says `type: string`."""
        if not isinstance(value, str):
            return False
        pattern = schema.get("pattern")
        if pattern is not None:
            compiled = self.patterns.get(pattern)
            if compiled is None:
                compiled = self.patterns[pattern] = re.compile(pattern)
            if compiled.search(value) is None:
                return False
        if len(value) < schema.get("minLength", 0):
            return False
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return False
        if "enum" in schema and value not in schema["enum"]:
            return False
        return "const" not in schema or value == schema["const"]

    def _object(self, value: Any, schema: dict[str, Any]) -> bool:
        if not isinstance(value, dict):
            return False
        if len(value) < schema.get("minProperties", 0):
            return False
        if any(key not in value for key in schema.get("required", ())):
            return False
        names = schema.get("propertyNames")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if names is not None and not self._leaf(key, names):
                return False
            if not self.valid(item, properties.get(key, extra)):
                return False
        return True

    def _leaf(self, value: Any, schema: dict[str, Any]) -> bool:
        try:
            memo_key = (id(schema), _frozen(value))
        except TypeError:  # not a JSON value: jsonschema answers each time
            return bool(self._validator(schema).is_valid(value))
        known = self.answers.get(memo_key)
        if known is None:
            known = self.answers[memo_key] = bool(self._validator(schema).is_valid(value))
        return known

    def _validator(self, schema: dict[str, Any]) -> Any:
        found = self.validators.get(id(schema))
        if found is None:
            whole = {**schema, "$defs": self.root["$defs"]}  # its `$ref`s resolve as in the root
            found = self.validators[id(schema)] = jsonschema.Draft202012Validator(whole)
        return found


def _frozen(value: Any) -> Any:
    """A hashable stand-in equal only for equal JSON values of the same types (1, 1.0 and
    True differ: JSON Schema types them differently)."""
    if isinstance(value, dict):
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_frozen(v) for v in value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return (type(value), value)
    raise TypeError(type(value).__name__)


def _drop_implied_missing(problems: list[Problem]) -> list[Problem]:
    """A misspelt required key yields "unknown 'atributes'" and "missing 'attributes'": keep one."""
    missing: dict[Path, list[str]] = {}
    for q in problems:
        if q.code == "missing-key":
            missing.setdefault(q.path[:-1], []).append(str(q.path[-1]))
    typos = {
        (p.path[:-1], close)
        for p in problems
        if p.code == "unknown-key" and p.path[:-1] in missing
        for close in difflib.get_close_matches(
            str(p.path[-1]), missing[p.path[:-1]], n=1, cutoff=0.6
        )
    }
    return [
        p for p in problems if not (p.code == "missing-key" and (p.path[:-1], p.path[-1]) in typos)
    ]


# --------------------------------------------------------------------------- pydantic pass


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[Path, bool]:
    """Map a pydantic `loc` onto the data: union-branch tags are skipped; `[key]` marks a key."""
    path: list[str | int] = []
    node = data
    at_key = False
    for part in loc:
        if part == "[key]":
            at_key = True
            continue
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            path.append(part)
            node = node[part]
            continue
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part == "schema_":
            path.append("schema")
            node = node.get("schema")
        elif isinstance(node, dict) and isinstance(part, str) and _is_union_tag(part):
            continue  # a union tag like `AttributeSpec`
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing key
            node = None
        else:
            continue
    return tuple(path), at_key


_BUILTIN_TAGS = {"str", "int", "float", "bool", "dict", "list", "none", "null"}


def _is_union_tag(part: str) -> bool:
    """pydantic names union branches in `loc` (`str`, `AttributeSpec`, `function-after[...]`)."""
    return part in _BUILTIN_TAGS or not re.fullmatch(r"[a-z_][a-z0-9_]*", part)


def _overlaps_any(path: Path, paths: set[Path], prefixes: set[Path]) -> bool:
    """Whether `path` overlaps some p of `paths` (`prefixes`: every prefix of every p): path
    is a prefix of a p, or a p is a prefix of path."""
    return path in prefixes or any(path[:n] in paths for n in range(len(path)))


def pydantic_pass(data: Any, known: list[Problem]) -> tuple[ModelSpec | None, list[Problem]]:
    """Build the spec; return new problems (those not overlapping `known` paths)."""
    try:
        return ModelSpec.model_validate(data), []
    except PydanticError as exc:
        problems: list[Problem] = []
        seen: set[Path] = set()
        errors = [(e, *_data_path(data, tuple(e["loc"]))) for e in exc.errors(include_url=False)]
        # sets of paths and their prefixes: the pairwise comparisons were quadratic (20,000
        # unknown keys took minutes)
        known_paths = {k.path for k in known}
        known_prefixes = {k.path[:n] for k in known for n in range(len(k.path) + 1)}
        error_parents = {other[:n] for _, other, _ in errors for n in range(len(other))}
        for err, path, at_key in errors:
            if path in seen or _overlaps_any(path, known_paths, known_prefixes):
                continue
            if str(err["type"]).endswith("_type") and path in error_parents:
                # a union branch of another shape (`attr: string` vs `attr: {type: ...}`):
                # the error inside the branch the value has is the one to report
                continue
            seen.add(path)
            if err["type"] == "value_error" and (
                path[-2:-1] == ("attributes",) or path[-1:] == ("type",)
            ):
                value = _get(data, path)
                if isinstance(value, dict):
                    value = value.get("type")
                problems.append(_type_problem(path, value))
                continue
            msg = str(err["msg"]).removeprefix("Value error, ")
            hint = (
                "write a number (`.inf` and `.nan` have no capacity or request equivalent)"
                if err["type"] == "finite_number"
                else None
            )
            problems.append(
                Problem("invalid-value", path, f"{describe_path(path)}: {msg}", hint, at_key=at_key)
            )
        return None, problems


def _plain(number: Any) -> str:
    """1e9 as 1000000000, an integer as its digits."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _get(data: Any, path: Path) -> Any:
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def validate_structure(
    data: Any, positions: Positions, diags: Diagnostics, schema_valid: bool = False
) -> ModelSpec | None:
    """Both passes; adds located diagnostics to `diags`; the spec when the structure is valid.

    `schema_valid`: the caller has established `schema_problems(data) == []` (init's self-check
    runs that pass beside the rest, in another process), so only the pydantic pass runs."""
    if not isinstance(data, dict):
        diags.error(
            "wrong-type",
            f"a model file must be a mapping with `model:` and `entities:`, not {describe_value(data)}",
            positions.value(()),
            hint="start the file with `model: <name>`",
        )
        return None
    raw = [] if schema_valid else schema_problems(data)
    problems = _drop_implied_missing(raw)
    spec, more = pydantic_pass(data, raw)
    for p in [*problems, *more]:
        span = positions.key(p.path) if p.at_key else positions.value(p.path)
        if p.code == "missing-key":
            span = positions.key(p.path[:-1]) if p.path[:-1] else positions.value(())
        diags.error(p.code, p.message, span, hint=p.hint, subject=_dotted(p.path) or None)
    if problems or more:
        return None
    return spec
