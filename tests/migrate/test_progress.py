"""migrate.progress: plain lines on a non-TTY (chunks, rows, items, rate, ETA), a bar on a TTY,
nothing when disabled."""

from __future__ import annotations

import io
import time

from modeling.migrate.progress import Progress, duration


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_every_interval_on_a_non_tty() -> None:
    out = io.StringIO()
    progress = Progress("migrate run", stream=out, interval=0.02)
    progress.add("Order", 1_000, done=200)  # 200 rows done by an earlier run
    progress.add("Customer", 500)
    progress.set_chunks(8, 2)
    with progress:
        progress.advance("Order", 300, 290)
        progress.chunk_done()
        deadline = time.monotonic() + 5
        while out.getvalue().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3  # at least two ticks and the final line
    tick = lines[0]
    assert tick.startswith("migrate run: chunks 3/8, rows 500/1,500 (33.3%), items 290, ")
    assert tick.split(", ")[-2].endswith(" items/s") and tick.split(", ")[-1].startswith("ETA ")
    assert lines[-1].startswith("migrate run: chunks 3/8, rows 500/1,500 (33.3%), items 290, ")
    assert ", done in 0:00:0" in lines[-1]


def test_eta_comes_from_this_runs_rate() -> None:
    progress = Progress("x", stream=io.StringIO(), interval=60)
    progress.add("E", 10_000, done=5_000)
    progress._started = time.monotonic() - 10  # 10 s into the run
    progress.advance("E", 1_000)  # 100 rows/s this run; 4,000 rows left
    eta = progress.line().rsplit("ETA ", 1)[1]
    assert eta in ("0:00:40", "0:00:39", "0:00:41")


def test_a_tty_gets_the_bar_and_no_plain_lines() -> None:
    out = _Tty()
    progress = Progress("migrate run", stream=out, interval=0.01)
    progress.add("Order", 10)
    with progress:
        progress.advance("Order", 10, 10)
        time.sleep(0.05)
    assert "migrate run:" not in out.getvalue()
    assert "Order" in out.getvalue()


def test_disabled_prints_nothing() -> None:
    out = io.StringIO()
    with Progress("migrate run", enabled=False, stream=out, interval=0.01) as progress:
        progress.add("Order", 10)
        progress.advance("Order", 10, 10)
        time.sleep(0.05)
    assert out.getvalue() == ""


def test_duration() -> None:
    assert duration(0) == "0:00:00"
    assert duration(59.6) == "0:01:00"
    assert duration(3_725) == "1:02:05"


def test_a_failed_step_says_stopped() -> None:
    out = io.StringIO()
    try:
        with Progress("migrate run", stream=out, interval=60) as progress:
            progress.add("Order", 10)
            progress.advance("Order", 4, 4)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    (line,) = out.getvalue().splitlines()
    assert line.startswith("migrate run: rows 4/10 (40.0%), items 4, ")
    assert ", stopped after 0:00:00" in line
