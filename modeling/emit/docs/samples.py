"""Example values for the docs: deterministic sample items and one example request per plan.

Sample rows come from the verifier's generator (`modeling.sample.generate`), made readable by
`modeling.sample.showcase` (the verifier's adversarial values are for breaking plans, not for
reviewing a design), and become items through the reference codec (`modeling.sample.codec`);
requests come from `modeling.requests`, so what the docs show is built the way `model verify`
loads and queries.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modeling.core.ir import Layout, Model, PatternPlan
from modeling.emit.docs.markdown import VALUE_WIDTH, short
from modeling.requests import build_request, inline_key_condition
from modeling.sample.codec import ItemError, attribute_av, to_item
from modeling.sample.generate import SampleOptions, generate
from modeling.sample.params import draw
from modeling.sample.rows import Dataset
from modeling.sample.showcase import readable


@dataclass(frozen=True)
class Sample:
    """Deterministic sample rows and their DynamoDB items, for example values."""

    data: Dataset
    items: tuple[tuple[str, dict[str, Any]], ...]  # (entity, low-level item), generation order


def make_sample(model: Model, layout: Layout, seed: int = 0) -> Sample:
    """A small sample (a few roots, two children each) from the verifier's generator."""
    options = SampleOptions(
        seed=seed,
        roots=3,
        fanout=2.0,
        max_rows=12,
        hot_partition_bytes=0,
        fat_entities=0,
        adversarial=False,  # readable examples; `model verify` plants the hostile values
    )
    data = readable(model, generate(model, options), seed)
    items: list[tuple[str, dict[str, Any]]] = []
    for entity in model.entities:
        for row in data.of(entity.name):
            try:
                items.append((entity.name, to_item(model, layout, entity, row)))
            except (ItemError, ValueError, KeyError):
                continue  # a row the layout cannot store is reported by `model verify`
    return Sample(data, tuple(items))


def av_text(av: Mapping[str, Any], width: int = VALUE_WIDTH) -> str:
    """A low-level AttributeValue as short readable text (`S` bare, numbers bare, sets `{…}`)."""
    ((tag, value),) = av.items()
    if tag in ("S", "N"):
        out = str(value)
    elif tag == "B":
        out = "0x" + bytes(value).hex()
    elif tag == "BOOL":
        out = "true" if value else "false"
    elif tag == "NULL":
        out = "null"
    elif tag in ("SS", "NS"):
        out = "{" + ", ".join(sorted(str(v) for v in value)) + "}"
    elif tag == "BS":
        out = "{" + ", ".join(sorted("0x" + bytes(v).hex() for v in value)) + "}"
    else:
        out = json.dumps(_plain(av), ensure_ascii=False, sort_keys=True)
    return short(out, width)


def _plain(av: Mapping[str, Any]) -> Any:
    ((tag, value),) = av.items()
    if tag == "M":
        return {k: _plain(v) for k, v in value.items()}
    if tag == "L":
        return [_plain(v) for v in value]
    if tag == "B":
        return "0x" + bytes(value).hex()
    if tag in ("SS", "NS", "BS"):
        return sorted(av_text({tag: [v]}, 10**6)[1:-1] for v in value)
    return value


def jsonable_item(item: Mapping[str, Any]) -> Any:
    """A low-level item as JSON (binary as base64, like the AWS CLI prints it)."""

    def conv(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, Mapping):
            return {k: conv(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [conv(v) for v in value]
        if isinstance(value, str) and len(value) > 200:
            return value[:199] + "…"
        return value

    return conv(dict(item))


@dataclass(frozen=True)
class Example:
    """One concrete run of a pattern on the sample: parameters and the request sent."""

    params: dict[str, Any]
    request: dict[str, Any]


def example(model: Model, layout: Layout, plan: PatternPlan, sample: Sample) -> Example | None:
    """Parameters drawn from the sample rows (as `model verify` draws them) and the request."""
    pattern = model.pattern(plan.pattern)
    if pattern is None:
        return None
    rng = random.Random(f"{model.name}:{plan.pattern}")
    try:
        params = draw(model, pattern, sample.data, rng, 1)[0]
        request = build_request(model, layout, plan, params, layout.table_name, attribute_av)
    except Exception:
        return None
    return Example(params, request)


def example_keys(ex: Example) -> str:
    """The key values of an example request, `PK = "…"` style, for a table cell."""
    return inline_key_condition(ex.request, av_text)


def param_text(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    return short(str(value))


def jsonable_request(request: Mapping[str, Any]) -> Any:
    return jsonable_item(request)
