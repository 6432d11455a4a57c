"""Sort-key ranges from a slot's kind (issue 13, items 4 and 5).

A sort key that starts with a slot rather than literal text (AWS's published designs: a
booking under `{startDate}` beside the customer under `A`) has no literal prefix to range
on, so a read of one type used to take the whole partition and drop the others by type. When
the slot's encoding fixes the first character (a datetime, date or integer starts with a digit,
a uuid with a hex digit), the key condition keeps to that range instead: `BETWEEN '0' AND
after('9')`, narrowed by the pattern's own bound, leaving out every type whose sort key starts
otherwise. Types that may start the same way are still read and dropped, and a slot that may
hold a NULL sentinel (outside the range) keeps the old plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modeling.api import load_model
from modeling.compile import compile_model
from modeling.core import ir
from modeling.requests import render_key
from modeling.runtime import keys
from modeling.verify.runner import VerifyOptions, verify

ROOT = Path(__file__).resolve().parents[2]
TYPED = ROOT / "tests/fixtures/models/amplification/typed_ranges.yaml"
ORDERS = ("orders_newest_first", "orders_since", "orders_until", "orders_after")


def _compiled(m: ir.Model) -> ir.Layout:
    layout, bag = compile_model(m)
    assert layout is not None, [d.format() for d in bag.errors]
    return layout


def _plan(layout: ir.Layout, name: str) -> ir.PatternPlan:
    plan = layout.plan(name)
    assert plan is not None
    return plan


def test_a_datetime_sort_key_is_read_within_the_digits() -> None:
    layout = _compiled(load_model(TYPED))
    newest = _plan(layout, "orders_newest_first")
    assert newest.sk.kind == "between"
    low, high = newest.sk.values
    assert (low.template, low.mode, high.template, high.mode) == ("0", "full", "9", "after")
    # the profile (SK `PROFILE`) is not read: nothing to drop, no warning
    for name in ORDERS:
        plan = _plan(layout, name)
        assert plan.sk.kind == "between" and plan.type_filter == (), name
        assert plan.read_estimate is None, name
    assert not [d for d in layout.diagnostics if d.code == "read-amplification"]
    # one-sided bounds keep their own side and take the other from the kind
    since = _plan(layout, "orders_since").sk.values
    assert since[0].template == "{placed_at}" and since[1].template == "9"
    until = _plan(layout, "orders_until").sk.values
    assert until[0].template == "0" and until[1].template == "{placed_at}"
    # `>`: BETWEEN includes the bound, a filter drops it
    after = _plan(layout, "orders_after")
    assert [(f.attribute, f.op) for f in after.filters] == [("placed_at", ">")]


def test_the_bounds_sort_around_every_datetime_and_above_the_literal() -> None:
    """The rendered bounds hold every encoded datetime and not `PROFILE`."""
    layout = _compiled(load_model(TYPED))
    low, high = _plan(layout, "orders_newest_first").sk.values
    lo, hi = render_key(low, {}), render_key(high, {})
    for text in ("0001-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"):
        value = keys.decode("datetime", text)
        encoded = keys.encode("datetime", value)
        assert lo <= encoded <= hi
    assert not (lo <= "PROFILE" <= hi)


NOTE = """
  Note:
    table: notes
    key: [customer_id, note_id]
    parent: Customer
    keys:
      table: {pk: "{customer_id}", sk: "1#{note_id}"}
    attributes:
      customer_id: {type: string, references: Customer}
      note_id: string
access_patterns:"""


def _variant(tmp_path: Path, *changes: tuple[str, str]) -> ir.Layout:
    text = TYPED.read_text()
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "variant.yaml"
    path.write_text(text)
    return _compiled(load_model(path))


def test_a_type_that_may_start_with_a_digit_is_still_dropped_by_type(tmp_path: Path) -> None:
    """A note under `1#{note_id}` shares the partition: it starts with a digit too, so it is
    read and dropped; the profile is still left out."""
    layout = _variant(tmp_path, ("access_patterns:", NOTE.strip("\n")))
    plan = _plan(layout, "orders_newest_first")
    assert plan.sk.kind == "between" and plan.type_filter == ("Order",)
    assert plan.read_estimate is not None and plan.read_estimate.dropped == ("Note",)


def test_a_string_sort_key_gets_no_range_from_its_kind(tmp_path: Path) -> None:
    """A string slot can start with almost any character: no range, as before (the profile
    under `#PROFILE`, which no encoded string can equal)."""
    layout = _variant(
        tmp_path,
        ("placed_at: datetime", "placed_at: string"),
        ('sk: "PROFILE"', 'sk: "#PROFILE"'),
    )
    plan = _plan(layout, "orders_newest_first")
    assert plan.sk.kind == "none" and plan.type_filter == ("Order",)
    assert plan.read_estimate is not None and plan.read_estimate.dropped == ("Customer",)


def test_a_uuid_sort_key_is_read_within_the_hex_digits(tmp_path: Path) -> None:
    """`BETWEEN '0' AND after('f')` also holds `A`..`Z`: `PROFILE` stays read (and dropped);
    `#PROFILE` sorts below `0` and is left out."""
    layout = _variant(tmp_path, ("placed_at: datetime", "placed_at: uuid"))
    plan = _plan(layout, "orders_newest_first")
    assert plan.sk.kind == "none" and plan.type_filter == ("Order",)
    layout = _variant(
        tmp_path,
        ("placed_at: datetime", "placed_at: uuid"),
        ('sk: "PROFILE"', 'sk: "#PROFILE"'),
    )
    plan = _plan(layout, "orders_newest_first")
    low, high = plan.sk.values
    assert (low.template, high.template, high.mode) == ("0", "f", "after")
    assert plan.type_filter == ()


def test_a_key_equal_to_the_upper_bound_is_still_read(tmp_path: Path) -> None:
    """after('9') is `:`, and BETWEEN is inclusive: a sort key that is exactly `:` is read."""
    layout = _variant(tmp_path, ('sk: "PROFILE"', 'sk: ":"'))
    plan = _plan(layout, "orders_newest_first")
    assert plan.sk.kind == "none" and plan.type_filter == ("Order",)


@pytest.mark.e2e
def test_the_typed_ranges_verify_on_dynamodb_local(dynamodb_local: Any) -> None:
    m = load_model(TYPED)
    layout = _compiled(m)
    report = verify(m, layout, dynamodb_local.client(), options=VerifyOptions(trials=12))
    bad = {p.pattern: p.failures[:1] for p in report.patterns if p.status != "ok"}
    assert report.ok, bad
    assert all(p.non_empty > 0 for p in report.patterns if p.pattern in ORDERS)
