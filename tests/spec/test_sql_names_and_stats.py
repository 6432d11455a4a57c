"""Quoted PostgreSQL names and pg_stats hints survive loading into the resolved model."""

from modeling.api import check_text
from modeling.core import ir

MODEL = """\
model: odd_names
entities:
  Account:
    table: "Billing Accounts"
    key: [account_id]
    attributes:
      account_id: integer
      display_name: {type: string, column: "Display Name"}
      tier:
        type: string
        enum: [free, pro]
        stats: {n_distinct: 2, avg_width: 4, null_frac: 0.0}
access_patterns:
  get_account:
    entity: Account
    where: {account_id: "="}
"""


def test_quoted_table_and_column_names_and_stats_load() -> None:
    result = check_text(MODEL, "odd.yaml")
    assert not result.diagnostics.has_errors(), [d.format() for d in result.diagnostics]
    model = result.model
    assert model is not None
    account = model.entity("Account")
    assert account is not None
    assert account.table == "Billing Accounts"
    name = account.attribute("display_name")
    assert name is not None and name.column_name == "Display Name"
    tier = account.attribute("tier")
    assert tier is not None
    assert tier.stats == ir.ColumnStats(n_distinct=2, avg_width=4, null_frac=0.0)


def test_stats_out_of_range_is_located() -> None:
    bad = MODEL.replace("null_frac: 0.0", "null_frac: 1.5")
    result = check_text(bad, "odd.yaml")
    errors = result.diagnostics.errors
    assert errors, "null_frac 1.5 must be rejected"
    assert errors[0].span is not None and (errors[0].span.line, errors[0].span.col) == (12, 57)
