"""SQL names a parent's key `id` and the child's foreign key `order_id`; the seeded model must
still make the child part of the parent's item collection, and load, compile and read back."""

from pathlib import Path

from typer.testing import CliRunner

from modeling.api import load_model
from modeling.cli import app
from modeling.compile import compile_model

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "ddl" / "shop.sql"


def test_parent_key_renamed_to_the_childs_foreign_key_name(tmp_path: Path) -> None:
    out = tmp_path / "shop.yaml"
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(SHOP), "-o", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)  # raises ModelError on any diagnostic error
    order, line = model.entity("Order"), model.entity("OrderLine")
    assert order is not None and line is not None
    assert order.key == ("order_id",)
    key_attr = order.attribute("order_id")
    assert key_attr is not None and key_attr.column_name == "id"
    assert line.parent == "Order"
    collection = model.pattern("order_with_order_line")
    assert collection is not None and collection.entities == ("Order", "OrderLine")
    layout, bag = compile_model(model)
    assert layout is not None, [d.format() for d in bag.errors]
    plan = layout.plan("order_with_order_line")
    assert plan is not None and plan.operation == "Query"


def test_children_that_disagree_keep_only_references(tmp_path: Path) -> None:
    ddl = SHOP.read_text(encoding="utf-8") + (
        "\nCREATE TABLE public.order_notes (parent_order_id bigint NOT NULL, n integer NOT NULL,"
        " body text NOT NULL);\n"
        "ALTER TABLE ONLY public.order_notes ADD CONSTRAINT order_notes_pkey"
        " PRIMARY KEY (parent_order_id, n);\n"
        "ALTER TABLE ONLY public.order_notes ADD CONSTRAINT order_notes_fk FOREIGN KEY"
        " (parent_order_id) REFERENCES public.orders(id);\n"
    )
    src = tmp_path / "shop2.sql"
    src.write_text(ddl, encoding="utf-8")
    out = tmp_path / "shop2.yaml"
    result = CliRunner().invoke(app, ["init", "--from-ddl", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    model = load_model(out)
    note = model.entity("OrderNote")
    assert note is not None and note.parent is None
    ref = note.attribute("parent_order_id")
    assert ref is not None and ref.references == "Order"
    line = model.entity("OrderLine")
    assert line is not None and line.parent == "Order"
