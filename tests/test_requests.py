"""`modeling.requests`: one home for key values, key conditions and requests.

What is checked: each render mode cuts a key where `ir.RenderMode` says (expected strings
written by hand); fixed `sql:` literals are part of the key, as their value, in both the
concrete and the symbolic rendering; the docs site and layout.md show the identical key
condition for every plan of every example model and test design (both read from the files the
emitters write); the old docs rendering (`{status}` where the Query sends `requested`) is gone;
a strict range on a SQL literal filters on that literal (verify sent it; the generated client
asked the caller for it).
"""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

import pytest
from compile.designs import DESIGNS

from modeling.api import check_text, load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.emit import docs
from modeling.emit.layout import layout_markdown
from modeling.emit.transformers import pattern_params
from modeling.requests import (
    PlanError,
    after,
    build_request,
    key_condition,
    render_key,
    symbolic_key,
)
from modeling.sample.codec import attribute_av

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "models").glob("*.yaml"))


def _kv(template: str, mode: str, *bindings: ir.SlotBinding) -> ir.KeyValue:
    return ir.KeyValue(template, bindings, mode)  # type: ignore[arg-type]


X = ir.SlotBinding("x", "x", "string")
Y = ir.SlotBinding("y", "y_to", "string")
STATUS = ir.SlotBinding("status", "status", "string", "requested")


# --------------------------------------------------------------------------- render modes


@pytest.mark.parametrize(
    ("kv", "concrete", "symbolic"),
    [
        (_kv("A#{x}#{y}", "full", X, Y), "A#ex#why", "A#<:x>#<:y_to>"),
        (_kv("A#{x}#{y}", "prefix", X), "A#ex#", "A#<:x>#"),
        (_kv("A#{x}#{y}", "prefix"), "A#", "A#"),
        (_kv("A#{x}#{y}", "open", X), "A#ex", "A#<:x>"),
        (_kv("A#{x}#{y}", "open"), "A#", "A#"),
        (_kv("CONSTANT", "open"), "CONSTANT", "CONSTANT"),
        (_kv("A#{x}#{y}", "after", X), "A#ex$", "after(A#<:x>#)"),
        (_kv("A#{y}", "after"), "A$", "after(A#)"),
        (_kv("R#{status}", "full", STATUS), "R#requested", "R#requested"),
        (_kv("R#{status}#{x}", "open", STATUS, X), "R#requested#ex", "R#requested#<:x>"),
    ],
)
def test_render_modes(kv: ir.KeyValue, concrete: str, symbolic: str) -> None:
    assert render_key(kv, {"x": "ex", "y_to": "why"}) == concrete
    assert symbolic_key(kv) == symbolic


def test_a_missing_parameter_is_a_plan_error_naming_it() -> None:
    with pytest.raises(PlanError, match="'y_to'"):
        render_key(_kv("A#{x}#{y}", "full", X, Y), {"x": "ex"})


def test_after_is_the_successor_of_every_string_with_the_prefix() -> None:
    assert after("A#") == "A$"
    assert after("a\U0010ffff") == "b"
    with pytest.raises(PlanError):
        after("\U0010ffff")


def test_key_condition_names_the_index_attributes() -> None:
    index = ir.Index("GSI1", "gsi", ir.KeyAttribute("GSI1PK"), ir.KeyAttribute("GSI1SK"))
    plan = ir.PatternPlan(
        "p",
        ("E",),
        "GSI1",
        "Query",
        _kv("R#{status}", "full", STATUS),
        ir.SortKeyCondition("between", (_kv("E#{x}#{y}", "open", X), _kv("E#{x}#{y}", "after", X))),
    )
    assert key_condition(plan, index) == (
        "GSI1PK = R#requested AND GSI1SK BETWEEN E#<:x> AND after(E#<:x>#)"
    )


# --------------------------------------------------------------------------- docs = layout.md


def _compiled() -> list[tuple[str, ir.Model, ir.Layout]]:
    out = []
    with contextlib.chdir(ROOT):
        models = [(p.stem, load_model(p.relative_to(ROOT))) for p in EXAMPLES]
    models += [(f"design-{n}", f()[0]) for n, f in sorted(DESIGNS.items())]
    for name, model in models:
        layout, bag = compile_model(model)
        assert layout is not None, (name, [d.format() for d in bag.errors])
        out.append((name, model, layout))
    return out


COMPILED = _compiled()


def _layout_md_conditions(text: str) -> dict[str, str]:
    """pattern -> key condition, read from layout.md's access-pattern table."""
    section = text.split("## Access patterns", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines()[4:]:
        if not line.startswith("| "):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        out[cells[0]] = cells[4].strip("`").replace("\\|", "|")
    return out


def _docs_conditions(text: str) -> dict[str, str]:
    """pattern -> key condition, read from access-patterns.md's matrix (escaped markdown)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\| \[(.+?)\]\(#[^)]*\)<br>.*?\| .*? \| <code>(.*?)</code> \|", line)
        if m:
            out[html.unescape(m.group(1))] = html.unescape(m.group(2))
    return out


def _docs_section_conditions(text: str) -> dict[str, str]:
    """pattern -> key condition, read from each pattern's own section."""
    out = {}
    for section in text.split("\n## ")[1:]:
        name = html.unescape(section.split(" {#", 1)[0])
        m = re.search(r"\| key condition \| <code>(.*?)</code> \|", section)
        if m:
            out[name] = html.unescape(m.group(1))
    return out


@pytest.mark.parametrize(("name", "model", "layout"), COMPILED, ids=[c[0] for c in COMPILED])
def test_docs_and_layout_md_show_the_same_key_condition(
    name: str, model: ir.Model, layout: ir.Layout
) -> None:
    page = docs.access_patterns_page(model, layout, docs.make_sample(model, layout))
    in_layout = _layout_md_conditions(layout_markdown(layout, model))
    in_matrix = _docs_conditions(page)
    in_sections = _docs_section_conditions(page)
    planned = {p.pattern for p in layout.plans}
    assert set(in_layout) == planned
    assert set(in_matrix) == planned
    for pattern in sorted(planned):
        assert in_matrix[pattern] == in_layout[pattern], (name, pattern)
        assert in_sections[pattern] == in_layout[pattern], (name, pattern)
        # every placeholder names one of the pattern's own parameters; literals are not quoted
        plan = layout.plan(pattern)
        assert plan is not None
        shown = set(re.findall(r"<:([A-Za-z_][A-Za-z0-9_]*)>", in_layout[pattern]))
        assert shown <= set(plan.params), (name, pattern, shown)
        assert "'" not in in_layout[pattern], (name, pattern)


def test_fixed_literals_show_their_value_not_their_slot() -> None:
    """`open_returns` is `WHERE status = 'requested'`: the Query sends RETURN#requested."""
    (model, layout) = next((m, lay) for n, m, lay in COMPILED if n == "orders")
    page = docs.access_patterns_page(model, layout, docs.make_sample(model, layout))
    expected = "GSI1PK = RETURN#requested AND begins_with(GSI1SK, RETURN#)"
    assert _docs_conditions(page)["open_returns"] == expected
    assert _layout_md_conditions(layout_markdown(layout, model))["open_returns"] == expected
    checked = 0
    for _, _, lay in COMPILED:
        for plan in lay.plans:
            for kv in (plan.pk, *plan.sk.values):
                for b in kv.bindings:
                    if b.literal is not None:
                        assert "{" + b.slot + "}" not in symbolic_key(kv), plan.pattern
                        assert str(b.literal) in symbolic_key(kv), plan.pattern
                        checked += 1
    assert checked >= 2  # orders.open_returns and catalog.active_products_of_category_by_title


# --------------------------------------------------------------------------- requests

RESIDUAL = (ROOT / "tests/fixtures/models/residual.yaml").read_text("utf-8")


def test_a_strict_range_on_a_sql_literal_filters_on_the_literal() -> None:
    """`ticket_no > 5` under TICKET#{state}#{ticket_no}: BETWEEN from the bound (inclusive),
    then a filter drops ticket 5; the filter's value is the 5 of the SQL, not a parameter."""
    result = check_text(RESIDUAL, "residual.yaml")
    assert result.model is not None, [d.format() for d in result.diagnostics]
    model = result.model
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag.errors]
    plan = layout.plan("open_after_five")
    assert plan is not None and plan.params == ("board_id",)
    request = build_request(model, layout, plan, {"board_id": "b1"}, "T", attribute_av)
    assert request["FilterExpression"] == "#f0 > :f0_0"
    assert request["ExpressionAttributeNames"]["#f0"] == "ticket_no"
    assert request["ExpressionAttributeValues"][":f0_0"] == {"N": "5"}
    assert key_condition(plan, layout.index(plan.index)).startswith(
        "PK = BOARD#<:board_id> AND SK BETWEEN TICKET#open#"
    )
    assert pattern_params(model, plan).names == {"board_id": "board_id"}
