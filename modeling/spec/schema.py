"""The JSON Schema of the model language, generated from the pydantic models.

pydantic's output is reshaped into what editors and `jsonschema` handle best: optional fields do
not admit `null` (an empty value is a mistake, not "absent"), maps with constrained key names use
`propertyNames` + `additionalProperties` (so a bad name is an error rather than silently allowed
by `patternProperties`), and null defaults are dropped. The loader validates against the same
in-memory schema; `generated/model.schema.json` is this text, checked for drift in CI.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from modeling.spec.model import ModelSpec

SCHEMA_ID = "https://single-table-modeling.dev/schema/model.schema.json"
SCHEMA_VERSION = 1


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _reshape(node: Any) -> Any:
    if isinstance(node, list):
        return [_reshape(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _reshape(v) for k, v in node.items()}
    if "anyOf" in out:
        branches = [b for b in out["anyOf"] if not _is_null(b)]
        if len(branches) == 1:
            del out["anyOf"]
            merged = dict(branches[0])
            merged.update({k: v for k, v in out.items() if k not in merged})
            out = merged
        else:
            out["anyOf"] = branches
    if out.get("default", 0) is None:
        del out["default"]
    pattern_props = out.pop("patternProperties", None)
    if pattern_props:
        ((pattern, value_schema),) = pattern_props.items()
        names = dict(out.get("propertyNames") or {})
        names["pattern"] = pattern
        out["propertyNames"] = names
        out["additionalProperties"] = value_schema
    return out


@lru_cache(maxsize=1)
def model_schema() -> dict[str, Any]:
    """The schema as a dict (cached; treat as read-only)."""
    raw = ModelSpec.model_json_schema(by_alias=True)
    schema = _reshape(raw)
    schema["title"] = "single-table-modeling model"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["x-schema-version"] = SCHEMA_VERSION
    return dict(schema)


def schema_text() -> str:
    """The schema serialised deterministically (sorted keys, LF, final newline)."""
    return json.dumps(model_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
