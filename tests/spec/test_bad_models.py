"""The malformed-model corpus: each `bad/<case>.yaml` has `bad/<case>.expected`, the exact
`line:col: severity: message [code]` + hint lines the loader must print (file path stripped).

A mismatch shows as a text diff. After an intended change of wording, regenerate with
`UPDATE_EXPECTED=1 pytest tests/spec/test_bad_models.py` and review the diff before committing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from spec_helpers import BAD, render_relative

from modeling.api import check_file
from modeling.core.codes import CODES

CASES = sorted(BAD.glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_model_reports_exact_located_errors(case: Path) -> None:
    result = check_file(case)
    assert result.model is None, "a malformed model must not load"
    assert result.diagnostics.has_errors()
    actual = render_relative(result.diagnostics, str(case))
    expected_file = case.with_suffix(".expected")
    if os.environ.get("UPDATE_EXPECTED"):
        expected_file.write_text(actual)
    assert expected_file.exists(), f"missing {expected_file.name}; run with UPDATE_EXPECTED=1"
    assert actual == expected_file.read_text()


def _corpus_codes() -> set[str]:
    codes: set[str] = set()
    for f in BAD.glob("*.expected"):
        codes.update(re.findall(r"\[([a-z0-9-]+)\]$", f.read_text(), re.M))
    return codes


def test_every_code_in_the_corpus_is_documented() -> None:
    assert _corpus_codes() - set(CODES) == set()


def test_the_corpus_covers_the_issue_list() -> None:
    required = {
        "yaml-syntax", "duplicate-key", "unknown-key", "missing-key", "wrong-type",
        "invalid-value", "invalid-name", "unknown-type", "unknown-entity", "unknown-attribute",
        "optional-key", "parent-cycle", "two-ranges", "pattern-source", "unique-range",
        "sql-or", "sql-join", "sql-function", "sql-unknown-table", "sql-unknown-column",
        "sql-no-where", "sql-syntax", "sql-not", "sql-in", "sql-not-equal", "sql-like",
        "sql-is-null", "unrelated-entities", "parent-key", "pinned-key",
    }  # fmt: skip
    assert required - _corpus_codes() == set()


def test_every_location_is_inside_the_file() -> None:
    for case in CASES:
        lines = case.read_text().splitlines()
        for d in check_file(case).diagnostics:
            assert d.span is not None and d.span.file == str(case)
            assert 1 <= d.span.line <= max(1, len(lines)), (case.name, d)
            assert 1 <= d.span.col <= len(lines[d.span.line - 1]) + 1, (case.name, d)
