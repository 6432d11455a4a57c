"""Read amplification is a diagnostic (issue 13, item 5).

When a pattern's key condition matches items it then drops (other entity types in the
partition, non-key filters), the compiler narrows the key condition with a sort-key range when
one excludes them, and otherwise warns (`read-amplification`) with the estimated items read
per item returned, saying what the estimate rests on; the estimate is in the plan
(`PatternPlan.read_estimate`, layout.json) for verify to compare with what it measures.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from modeling.api import load_model
from modeling.cli import app
from modeling.compile import compile_model
from modeling.core import ir

from .builder import entity, model, pattern

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "tests/fixtures/models/amplification/profiles.yaml"


def _compiled(m: ir.Model) -> ir.Layout:
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    return layout


def _plan(layout: ir.Layout, name: str) -> ir.PatternPlan:
    plan = layout.plan(name)
    assert plan is not None
    return plan


def _warnings(layout: ir.Layout, name: str) -> list[ir.DiagnosticRecord]:
    return [d for d in layout.diagnostics if d.code == "read-amplification" and d.subject == name]


def test_a_profile_read_names_its_item_when_the_partition_key_binds_the_sort_key() -> None:
    """`#METADATA#{user_id}` under `USER#{user_id}`: the pattern binds user_id, so the sort key
    is known in full: one GetItem, not begins_with over the user's partition."""
    layout = _compiled(load_model(PROFILES))
    plan = _plan(layout, "user_profile")
    assert plan.operation == "GetItem" and plan.sk.kind == "eq"
    assert plan.sk.values[0].mode == "full"
    assert plan.type_filter == () and plan.read_estimate is None


def _order_family(extra_sk: str = "PAYMENT#{payment_id}") -> ir.Model:
    return model(
        "shop",
        [
            entity("Order", ["order_id"], {"order_id": "string"}),
            entity(
                "LineItem",
                ["order_id", "line_no"],
                {"order_id": "string", "line_no": "integer"},
                parent="Order",
            ),
            entity(
                "Payment",
                ["order_id", "payment_id"],
                {"order_id": "string", "payment_id": "string"},
                parent="Order",
            ),
        ],
        [
            pattern("order_with_lines", ["Order", "LineItem"], {"order_id": "="}),
            pattern("order_with_payments", ["Order", "Payment"], {"order_id": "="}),
        ],
    )


def test_a_collection_read_skips_other_types_with_a_sort_key_range() -> None:
    """Order + LineItem share the partition with Payment, whose prefix sorts after both:
    `SK BETWEEN LINE_ITEM# AND after(ORDER)` reads the collection and no payment. Before,
    the Query read the whole partition and dropped payments by type."""
    layout = _compiled(_order_family())
    plan = _plan(layout, "order_with_lines")
    assert plan.index == "table"
    assert plan.sk.kind == "between"
    low, high = plan.sk.values
    assert (low.template, low.mode) == ("LINE_ITEM#", "full")
    assert (high.template, high.mode) == ("ORDER", "after")
    assert plan.type_filter == () and plan.read_estimate is None
    assert not _warnings(layout, "order_with_lines")
    # every member's sort key lies inside the range, the payments' outside
    from modeling.runtime import keys

    lo, hi = "LINE_ITEM#", keys.after("ORDER")
    for el in layout.entities:
        key = el.key("table")
        assert key is not None and key.sk is not None
        prefix = key.sk.split("{")[0]
        inside = lo <= prefix and keys.after(prefix) <= hi
        assert inside == (el.entity in ("Order", "LineItem")), el.entity


def test_an_open_range_is_closed_at_the_end_of_the_prefix_when_other_types_sort_there() -> None:
    """`post_id > :x` under `POST#{post_id}` with the user item above `POST#`: an open
    `SK > POST#x` reads the user item too; the plan closes the range at after(POST#) and
    drops only the tie at the strict bound with a residual filter."""
    m = model(
        "social",
        [
            entity(
                "User",
                ["user_id"],
                {"user_id": "string"},
                keys={"table": {"pk": "USER#{user_id}", "sk": "USER"}},
            ),
            entity(
                "Post",
                ["user_id", "post_id"],
                {"user_id": "string", "post_id": "string"},
                parent="User",
                keys={"table": {"pk": "USER#{user_id}", "sk": "POST#{post_id}"}},
            ),
        ],
        [pattern("posts_after", "Post", {"user_id": "=", "post_id": ">"})],
    )
    plan = _plan(_compiled(m), "posts_after")
    assert plan.sk.kind == "between" and plan.sk.values[1].mode == "after"
    assert plan.type_filter == () and plan.read_estimate is None
    assert [(f.attribute, f.op) for f in plan.filters] == [("post_id", ">")]


def test_no_range_excludes_them_a_warning_with_the_estimate_and_its_basis() -> None:
    """Profile sections keyed `{label}` (a free string first) share the user's partition with
    posts and followers: nothing narrows the read. 2,000 sections, 50,000 posts, 200,000
    followers and 1,000 users over 1,000 user partitions: (2 + 50 + 200 + 1) / 2 = 126.5."""
    layout = _compiled(load_model(PROFILES))
    plan = _plan(layout, "profile_sections")
    est = plan.read_estimate
    assert est is not None and set(est.dropped) == {"Follower", "Post", "User"}
    assert est.factor == (2 + 50 + 200 + 1) / 2
    assert any("200,000 rows over 1,000 User partitions" in b for b in est.basis)
    warned = _warnings(layout, "profile_sections")
    assert len(warned) == 1 and warned[0].severity == "warning"
    assert "126.5 items" in warned[0].message and "Follower" in warned[0].message
    # a collection whose range leaves out most of the partition reads ~1 item per item: quiet
    assert not _warnings(layout, "user_with_followers")
    kept = _plan(layout, "user_with_followers").read_estimate
    assert kept is not None and kept.dropped == ("ProfileSection",) and kept.factor is not None
    assert kept.factor < 1.5


def test_the_estimate_is_unknown_without_row_counts_and_says_what_to_declare() -> None:
    m = model(
        "social",
        [
            entity(
                "User",
                ["user_id"],
                {"user_id": "string"},
                keys={"table": {"pk": "USER#{user_id}", "sk": "#USER"}},
            ),
            entity(
                "Note",
                ["user_id", "title"],
                {"user_id": "string", "title": "string"},
                parent="User",
                keys={"table": {"pk": "USER#{user_id}", "sk": "{title}"}},
            ),
        ],
        [pattern("notes_of_user", "Note", {"user_id": "="})],
    )
    layout = _compiled(m)
    est = _plan(layout, "notes_of_user").read_estimate
    assert est is not None and est.factor is None and est.dropped == ("User",)
    assert "Note: no row_count" in est.basis
    warned = _warnings(layout, "notes_of_user")
    assert len(warned) == 1 and "unknown number" in warned[0].message
    assert warned[0].hint is not None and "row_count" in warned[0].hint


def test_a_filter_on_an_enum_is_estimated_from_its_values() -> None:
    m = model(
        "crm",
        [
            entity(
                "Deal",
                ["deal_id"],
                {
                    "deal_id": "string",
                    "account_id": "string",
                    "stage": {"type": "string", "enum": ["lead", "won", "lost", "open"]},
                },
            )
        ],
        [pattern("deals_of_account", "Deal", {"account_id": "="}, filter={"stage": "="})],
    )
    layout = _compiled(m)
    est = _plan(layout, "deals_of_account").read_estimate
    assert est is not None and est.dropped == () and est.filters == ("stage",)
    assert est.factor == 4 and not est.lower_bound
    assert len(_warnings(layout, "deals_of_account")) == 1


def test_the_estimate_survives_layout_json_and_explain_shows_it() -> None:
    layout = _compiled(load_model(PROFILES))
    again = ir.from_json(ir.Layout, ir.to_json(layout))
    assert again.plan("profile_sections") == layout.plan("profile_sections")
    result = CliRunner().invoke(app, ["explain", str(PROFILES), "profile_sections"])
    assert result.exit_code == 0, result.output
    assert "read amplification" in result.output and "126.5" in result.output
    assert "read-amplification" in result.output  # the warning row
