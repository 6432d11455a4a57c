"""Item 5 of issue 15: random application operations through the generated repository while
the backfill and catch-up run, the runner killed -9 and resumed, its writes throttled; the full
comparison afterwards finds 0 missing, 0 stale, 0 orphaned, 0 resurrected (PostgreSQL 15 and
DynamoDB Local). bench/chaos.py runs the same at a larger size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chaos import run_chaos

pytestmark = pytest.mark.e2e


def test_chaos_application_kill_9_and_throttling_leave_the_table_exact(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    dsn, counts = ledger_db(400, seed=3)
    table = ledger_table()
    client = dynamodb_local.client()
    result = run_chaos(
        ledger, dsn, dynamodb_local.endpoint_url, client, table, tmp_path, kills=2, seed=3
    )
    app = result.app
    assert app.errors == [], app.errors
    # the application really did all four kinds of operation while the runner ran
    assert all(n > 0 for n in app.ops.values()), app.ops
    assert result.report["injected"] > 0 and result.report["retries"] > 0
    assert len(result.kills) == 2
    a = result.audit
    assert (a.missing, a.mismatched, a.stale, a.orphaned, a.resurrected) == (0, 0, 0, 0, 0), (
        a.as_dict()
    )
    assert a.ok and a.untransformable == 0
    assert a.rows == a.items == a.checked
    expected = sum(counts.values()) + app.ops["insert"] - sum(len(d) for d in app.deleted.values())
    assert a.rows == expected


def test_chaos_sigterm_resumes_with_other_options_and_a_kill_in_the_catch_up(
    ledger: Any, ledger_db: Any, ledger_table: Any, dynamodb_local: Any, tmp_path: Path
) -> None:
    """The adversarial pass's operator: SIGTERM and SIGKILL in turn, each resume with another
    batch size and concurrency, and one kill after the last chunk (in the catch-up pass or
    its tombstone sweep), while the application keeps writing."""
    import signal

    dsn, _ = ledger_db(300, seed=5)
    table = ledger_table()
    client = dynamodb_local.client()
    result = run_chaos(
        ledger,
        dsn,
        dynamodb_local.endpoint_url,
        client,
        table,
        tmp_path,
        kills=2,
        seed=5,
        signals=(signal.SIGTERM, signal.SIGKILL),
        vary=True,
        kill_in_catch_up=True,
    )
    assert result.app.errors == [], result.app.errors
    assert len(result.kills) == 3  # the third in the catch-up pass
    a = result.audit
    assert (a.missing, a.mismatched, a.stale, a.orphaned, a.resurrected) == (0, 0, 0, 0, 0), (
        a.as_dict()
    )
    assert a.ok and a.rows == a.items == a.checked
