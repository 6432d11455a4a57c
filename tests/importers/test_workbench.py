"""NoSQL Workbench import: each real export in ../shared/workbench imports into the expected
entities and key templates, says what it guessed, and loads with the model loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeling.api import check_text, load_model
from modeling.cli import app
from modeling.compile import compile_model
from modeling.core.diagnostics import Severity
from modeling.importers.workbench import (
    SCHEMA_COMMENT,
    ImportResult,
    KeyTemplate,
    TablePlan,
    document_to_json,
    import_workbench,
    parse_document,
    plan_report,
    read_document,
    render_yaml,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "workbench"
FIXTURES = ROOT / "tests" / "fixtures" / "workbench"
SHARED_FILES = sorted(SHARED.glob("*.json"))

pytestmark = pytest.mark.skipif(not SHARED_FILES, reason="../shared/workbench is not present")


def _imported(name: str) -> ImportResult:
    result = import_workbench(SHARED / name)
    assert result.ok, [d.format() for d in result.diagnostics]
    return result


def _keys(plan: TablePlan) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Entity → index → (pk template, sk template)."""
    return {
        e.name: {k.index: (k.pk.text, k.sk.text if k.sk else None) for k in e.keys}
        for e in plan.entities
    }


def _codes(result: ImportResult, severity: Severity | None = None) -> list[str]:
    return [d.code for d in result.diagnostics if severity is None or d.severity is severity]


# --------------------------------------------------------------------------- the shared exports


def test_every_shared_export_imports_and_loads(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    loaded = []
    for path in SHARED_FILES:
        result = import_workbench(path)
        assert result.ok, [d.format() for d in result.diagnostics]
        assert result.plans
        for plan in result.plans:
            text = render_yaml(plan)
            assert text.splitlines()[0] == "# " + SCHEMA_COMMENT
            out = models / f"{plan.model}.yaml"
            out.write_text(text, encoding="utf-8")
            model = load_model(out)  # raises ModelError on any loader error
            assert [e.name for e in model.entities] == [e.name for e in plan.entities]
            assert {p.name for p in model.patterns} == {p.name for p in plan.patterns}
            for e in plan.entities:
                pinned = {k.index: (k.pk, k.sk) for k in model.entity(e.name).pinned_keys}  # type: ignore[union-attr]
                assert pinned == _keys(plan)[e.name]
            loaded.append(model.name)
    assert sorted(loaded) == [
        "cart-table",
        "game-player-profiles",
        "hotel-reservations",
        "payment-scheduler",
        "transaction-history",
    ]


def test_every_shared_export_compiles(tmp_path: Path) -> None:
    for path in SHARED_FILES:
        for plan in _imported(path.name).plans:
            out = tmp_path / f"{plan.model}.yaml"
            out.write_text(render_yaml(plan), encoding="utf-8")
            layout, diags = compile_model(load_model(out))
            assert layout is not None, [d.format() for d in diags.errors]
            for e in plan.entities:  # pinned keys are kept as imported
                for k in e.keys:
                    got = layout.entity(e.name).key(  # type: ignore[union-attr]
                        next(i.name for i in layout.indexes if i.alias == k.index)
                    )
                    assert got is not None and (got.pk, got.sk) == (
                        k.pk.text,
                        k.sk.text if k.sk else None,
                    )


def test_cart_descriptive_key_names_read_as_templates() -> None:
    result = _imported("CartModel.json")
    (plan,) = result.plans
    assert plan.model == "cart-table" and plan.table == "CartTable"
    assert _keys(plan) == {
        "Cart": {
            "table": ("{CustomerID}", "{Status}#{Date}"),
            "gsi1": ("{ItemSKU}", "{Status}#{Date}"),
        }
    }
    cart = plan.entities[0]
    assert cart.key == ["CustomerID", "Status", "Date"]
    assert {n: a.type for n, a in cart.attributes.items()} == {
        "CustomerID": "string",
        "Status": "string",
        "Date": "datetime",  # 2019-11-26T22:46:26 ...
        "ItemSKU": "string",
        "Price": "string",
        "Count": "string",
    }
    # the Status part of the sort key disagrees with the Status attribute in 3 of 5 items
    (conflict,) = [d for d in result.diagnostics if d.code == "workbench-slot-conflict"]
    assert "3 of 5" in conflict.message and conflict.span is not None
    assert (conflict.span.line, conflict.span.col) == (11, 20)  # the SortKey declaration
    assert [p.where for p in plan.patterns] == [
        {"CustomerID": "=", "Status": "=", "Date": "between"},
        {"ItemSKU": "=", "Status": "=", "Date": "between"},
    ]


def test_bank_two_tables_sharded_gsi_and_gsi_without_sort_key() -> None:
    result = _imported("BankModel.json")
    assert [p.model for p in result.plans] == ["payment-scheduler", "transaction-history"]
    payments, history = result.plans
    assert _keys(payments) == {
        "PaymentScheduler": {
            "table": ("{AccountID}", "{ScheduledTime}"),
            # `Status#Time`: the Time part equals ScheduledTime in every sample item
            "gsi1": ("{Sharded_GSI_PK}", "{Status}#{ScheduledTime}"),
        }
    }
    assert _keys(history) == {
        "TransactionHistory": {
            "table": ("{AccountID}", "{Timestamp}"),
            "gsi1": ("{Sharded_GSI_PK}", "{Timestamp}"),
            "gsi2": ("{TransactionID}", None),
        }
    }
    shard = payments.entities[0].attributes["Sharded_GSI_PK"]
    assert "renamed from 'Sharded-GSI-PK'" in shard.note
    assert payments.description.startswith("Model for Lab: Account that schedules payments")
    # a GSI with only a partition key: equality, no range, not unique (TransactionID is not the key)
    last = history.patterns[-1]
    assert (last.index, last.where, last.unique) == ("gsi2", {"TransactionID": "="}, False)


def test_bank_table_option_picks_one() -> None:
    result = import_workbench(SHARED / "BankModel.json", table="TransactionHistory")
    assert [p.table for p in result.plans] == ["TransactionHistory"]
    missing = import_workbench(SHARED / "BankModel.json", table="Nope")
    assert not missing.ok and missing.plans == []
    (err,) = missing.diagnostics.errors
    assert err.code == "workbench-table" and "PaymentScheduler, TransactionHistory" in (
        err.hint or ""
    )


def test_hotel_entities_from_type_attribute_and_model_schema() -> None:
    result = _imported("HotelReservations.json")
    (plan,) = result.plans
    # observed table keys that can equal Hotel's (the compiler's type-aware answer) are left
    # to the compiler; Rate's and Summary's sort keys start with a date, never Hotel's `A`
    assert _keys(plan) == {
        "Hotel": {"table": ("{hotel_id}", "A")},
        "Rate": {"table": ("{hotel_id}", "{endDate}#{rateId}")},
        "Customert": {},
        "Booking": {"gsi1": ("H1", "{startDate}")},
        "Summary": {"table": ("{hotel_id}", "{date}")},
        "Checkin": {"table": ("{checkin_id}", "checkin#{date}#{roomId}")},
    }
    unpinned = {d.subject: d for d in result.diagnostics if d.code == "workbench-key-unpinned"}
    assert sorted(unpinned) == ["Booking", "Customert"]
    assert "'{customert_id} / A' can equal Hotel's" in unpinned["Customert"].message
    # what was observed is still there: the identity and the patterns use the slots
    customer = plan.entities[2]
    assert customer.key == ["customert_id"]
    assert any("is not pinned" in n for n in customer.notes)
    assert [p.name for p in plan.patterns] == [
        "hotel_by_hotel_id",
        "rate_by_hotel_id",
        "customert_by_customert_id",
        "booking_by_customert_id",
        "summary_by_hotel_id",
        "checkin_by_checkin_id",
    ]
    # `type` is the entity type: dropped from attributes; rate/summary live in hotel's partition
    for e in plan.entities:
        assert "type" not in e.attributes
    assert "Hotel's partition" in plan.entities[1].attributes["hotel_id"].note
    assert plan.entities[4].attributes["date"].type == "date"
    # Workbench repeated attribute declarations: reported once per name, at the repeat
    dups = {
        d.message.split("'")[3]: d
        for d in result.diagnostics
        if d.code == "workbench-duplicate-attribute"
    }
    assert set(dups) == {"type", "startDate", "endDate", "rType", "date"}
    assert "6 times" in dups["type"].message
    assert dups["type"].span is not None and dups["type"].span.line == 1
    assert dups["type"].span.col == 504  # the second {"AttributeName":"type",...}
    # the editor placeholder model `~new~` is not an entity; a constant GSI key gets no pattern
    assert "workbench-schema-placeholder" in _codes(result, Severity.INFO)
    assert "workbench-no-pattern" in _codes(result, Severity.INFO)
    assert not any(p.index == "gsi1" for p in plan.patterns)


def test_game_profiles_facets_with_template_aliases_and_billing() -> None:
    result = _imported("GamePlayerProfiles.json")
    (plan,) = result.plans
    assert _keys(plan) == {
        "Metadata": {"table": ("{playerID}", "#METADATA#{playerID}")},
        "Friends": {"table": ("{playerID}", "FRIENDS#{playerID}")},
        "Items": {"table": ("{playerID}", "ITEMS#{ItemID}")},
        "Equipments": {"table": ("{playerID}", "EQUIPMENTS#{EquipID}")},
        "Tasks": {"table": ("{playerID}", "TASK#{TaskID}")},
        "Activities": {"table": ("{playerID}", "ACTIVITY#{ActivityID}")},
    }
    assert plan.billing == {"provisioned": {"read": 5, "write": 5}}
    assert "auto-scaling" in plan.billing_note
    items = plan.entities[2]
    assert items.key == ["playerID", "ItemID"]
    assert items.attributes["ItemAttributes"].type == "map"
    assert plan.entities[1].attributes["FriendList"].type == "list<map>"
    assert all("Type" not in e.attributes for e in plan.entities)
    # alias `#METEADATA#playerID` vs sample key `#METADATA#player001`: the data wins, reported
    (typo,) = [d for d in result.diagnostics if d.code == "workbench-alias-mismatch"]
    assert typo.span is not None and (typo.span.line, typo.span.col) == (143, 29)
    assert "METEADATA" in typo.message and "METADATA" in typo.message
    # singletons in the player's collection are unique reads; collections get a range
    by_name = {p.name: p for p in plan.patterns}
    assert by_name["metadata_by_player_id"].unique is True
    assert by_name["items_by_player_id"].where == {"playerID": "=", "ItemID": "between"}


def test_yaml_carries_a_comment_for_each_guess() -> None:
    (plan,) = _imported("GamePlayerProfiles.json").plans
    text = render_yaml(plan)
    assert "# guessed: entity from facet 'Items', 3 sample item(s)" in text
    assert "sk from facet alias 'ITEMS#ItemID'" in text
    assert "billing: {provisioned: {read: 5, write: 5}}  # from BillingMode PROVISIONED" in text
    assert text.count("# guessed: Workbench has no access patterns") == len(plan.patterns)
    # deterministic: the same input renders the same bytes
    assert render_yaml(_imported("GamePlayerProfiles.json").plans[0]) == text


def test_report_lists_every_inference() -> None:
    (plan,) = _imported("CartModel.json").plans
    report = plan_report(plan)
    json.dumps(report)  # serialisable
    cart = report["entities"][0]
    assert cart["inferred_from"].startswith("table 'CartTable'")
    assert cart["keys"]["gsi1"]["workbench_index"] == "GSI-SKU"
    assert cart["attributes"]["Date"]["type"] == "datetime"
    assert [p["name"] for p in report["access_patterns"]] == [
        "cart_by_customer_id",
        "cart_by_item_sku",
    ]


# --------------------------------------------------------------------------- own fixtures


def test_key_prefixes_make_entities_when_there_are_no_facets() -> None:
    result = import_workbench(FIXTURES / "PrefixKeys.json")
    assert result.ok
    (plan,) = result.plans
    assert _keys(plan) == {
        "Cust": {"table": ("CUST#{cust_id}", "CUST#{cust_id}")},
        "Order": {
            "table": ("CUST#{cust_id}", "ORDER#{order_id}"),
            "gsi1": ("ORDER#{order_id}", "{placed_at}"),
        },
    }
    cust, order = plan.entities
    assert cust.attributes["email"].required is False  # absent from one of two items
    assert {n: a.type for n, a in order.attributes.items()} == {
        "cust_id": "string",
        "order_id": "string",
        "placed_at": "datetime",
        "total": "decimal",
        "quantity": "integer",
        "tags": "set<string>",
        "scores": "set<integer>",
        "lines": "list<map>",
        "gift": "boolean",
    }
    assert "sparse: 1 of 2" in order.keys[1].note
    assert plan.billing == "on_demand"
    assert check_text(render_yaml(plan), "models/orders.yaml").ok


def test_key_template_parse_match_render() -> None:
    t = KeyTemplate.parse("ORDER#{created_at}#{order_id}")
    assert t.slots == ("created_at", "order_id")
    assert t.match("ORDER#2024-01-01#o1") == {"created_at": "2024-01-01", "order_id": "o1"}
    assert t.match("ITEM#1#2") is None
    assert t.render({"created_at": "d", "order_id": "o"}) == "ORDER#d#o"
    assert KeyTemplate.parse("${endDate}#${rateId}").text == "{endDate}#{rateId}"
    assert KeyTemplate.parse("{a}#{a}").match("x#y") is None  # one slot, one value


def test_document_json_round_trip_for_every_shared_export() -> None:
    for path in SHARED_FILES:
        doc, diags = read_document(path)
        assert doc is not None and not diags.has_errors()
        again, diags2 = parse_document(json.dumps(document_to_json(doc)), str(path))
        assert again is not None and not diags2.has_errors()
        assert again.tables == doc.tables, path.name


# --------------------------------------------------------------------------- the command

runner = CliRunner()


def test_cli_writes_one_model_per_table_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.json"
    res = runner.invoke(
        app, ["import", "--from-workbench", str(SHARED / "BankModel.json"), "--report", str(report)]
    )
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in (tmp_path / "models").iterdir())
    # no generated/model.schema.json above: the schema is written beside the models
    assert written == ["model.schema.json", "payment-scheduler.yaml", "transaction-history.yaml"]
    first = (tmp_path / "models" / "payment-scheduler.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=model.schema.json"
    data = json.loads(report.read_text())
    assert data["ok"] is True
    assert [m["output"] for m in data["models"]] == [
        "models/payment-scheduler.yaml",
        "models/transaction-history.yaml",
    ]
    assert "2 tables → 2 model files" in res.output
    # a second run changes nothing; a hand edit is not overwritten without --force
    again = runner.invoke(app, ["import", "--from-workbench", str(SHARED / "BankModel.json")])
    assert again.exit_code == 0 and "unchanged models/payment-scheduler.yaml" in again.output
    edited = tmp_path / "models" / "payment-scheduler.yaml"
    edited.write_text(edited.read_text() + "# my note\n")
    refused = runner.invoke(app, ["import", "--from-workbench", str(SHARED / "BankModel.json")])
    assert refused.exit_code == 2 and "import-exists" in refused.output
    assert edited.read_text().endswith("# my note\n")
    forced = runner.invoke(
        app, ["import", "--from-workbench", str(SHARED / "BankModel.json"), "--force"]
    )
    assert forced.exit_code == 0 and not edited.read_text().endswith("# my note\n")


def test_cli_single_output_file_needs_one_table(tmp_path: Path) -> None:
    out = tmp_path / "bank.yaml"
    res = runner.invoke(
        app, ["import", "--from-workbench", str(SHARED / "BankModel.json"), "-o", str(out)]
    )
    assert res.exit_code == 2
    assert "PaymentScheduler, TransactionHistory" in res.output and not out.exists()
    ok = runner.invoke(
        app,
        [
            "import",
            "--from-workbench",
            str(SHARED / "BankModel.json"),
            "-o",
            str(out),
            "--table",
            "PaymentScheduler",
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert load_model(out).name == "payment-scheduler"


def test_cli_stdout_and_missing_source(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["import", "--from-workbench", str(SHARED / "CartModel.json"), "-o", "-"]
    )
    assert res.exit_code == 0
    assert "model: cart-table" in res.stdout
    none = runner.invoke(app, ["import"])
    assert none.exit_code == 2
