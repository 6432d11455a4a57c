"""`model verify`'s progress without a terminal: plain lines on the stream (issue 13, item 9)."""

from __future__ import annotations

import io
import time

from modeling.verify.progress import VerifyProgress


def test_plain_lines_for_phases_periodic_progress_and_the_end() -> None:
    stream = io.StringIO()  # not a TTY
    with VerifyProgress(stream=stream, interval=0.02) as progress:
        progress.note("starting DynamoDB Local")
        progress.phase("shop", "generate")
        progress.phase("shop", "queries")
        progress.patterns("shop", 2)
        progress.pattern_done("shop", "a", 10)
        deadline = time.monotonic() + 5
        while "patterns 1/2" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        progress.pattern_done("shop", "b", 10)
    lines = stream.getvalue().splitlines()
    assert lines[:3] == [
        "model verify: starting DynamoDB Local",
        "model verify shop: sample rows",
        "model verify shop: queries",
    ]
    assert any(line.startswith("model verify shop: queries, patterns 1/2, 0:00:") for line in lines)
    assert lines[-1].startswith("model verify shop: done, 2 patterns in 0:00:")


def test_disabled_progress_writes_nothing() -> None:
    stream = io.StringIO()
    with VerifyProgress(enabled=False, stream=stream, interval=0.01) as progress:
        progress.phase("shop", "queries")
        progress.patterns("shop", 1)
        progress.pattern_done("shop", "a", 1)
    assert stream.getvalue() == ""
