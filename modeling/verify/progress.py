"""Progress of `model verify` while it runs: a rich bar on a terminal, plain lines otherwise.

The same convention as `migrate run` (modeling/migrate/progress.py): on a TTY a bar per model
(patterns done / patterns, and the phase); without a terminal (a log file, CI) one plain line
to stderr when a phase starts and every `interval` seconds while patterns run, and a last line
per model:

    model verify: starting DynamoDB Local
    model verify orders: load into DynamoDB
    model verify orders: queries, patterns 4/15, 0:00:06
    model verify orders: done, 15 patterns in 0:00:11

`enabled=False`: nothing at all. `MODELING_PROGRESS_INTERVAL` overrides the 5 s interval.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import Any, TextIO

from modeling.verify.runner import Progress

DEFAULT_INTERVAL = 5.0
PHASES = {
    "generate": "sample rows",
    "postgres load": "load into PostgreSQL",
    "dynamodb load": "load into DynamoDB",
    "queries": "queries",
}


def _env_interval() -> float:
    try:
        return max(0.05, float(os.environ.get("MODELING_PROGRESS_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class VerifyProgress(Progress):
    """Bar or lines for one or several models (see the module doc)."""

    def __init__(
        self, enabled: bool = True, stream: TextIO | None = None, interval: float | None = None
    ) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval if interval is not None else _env_interval()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._model: str | None = None
        self._phase = ""
        self._done = 0
        self._total = 0
        self._started = time.monotonic()

    def __enter__(self) -> VerifyProgress:
        if not self.enabled:
            return self
        if self.tty:
            self._bar = _rich_bar(self.stream)
            self._bar.__enter__()
        else:
            self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    # ------------------------------------------------------------------ events

    def note(self, text: str) -> None:
        """A step outside any model (starting an engine)."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.console.print(f"model verify: {text}", highlight=False)
        else:
            self._write(f"model verify: {text}")

    def phase(self, model: str, name: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            if model != self._model:
                self._model, self._done, self._total = model, 0, 0
                self._started = time.monotonic()
            self._phase = PHASES.get(name, name)
        if self._bar is not None:
            task = self._tasks.get(model)
            if task is None:
                self._tasks[model] = self._bar.add_task(model, total=None, phase=self._phase)
            else:
                self._bar.update(task, phase=self._phase)
        else:
            self._write(f"model verify {model}: {self._phase}")

    def patterns(self, model: str, total: int) -> None:
        with self._lock:
            self._total = total
        if self._bar is not None and model in self._tasks:
            self._bar.update(self._tasks[model], total=total, completed=0)

    def pattern_done(self, model: str, name: str, trials: int) -> None:
        with self._lock:
            self._done += 1
            finished = self._done == self._total
        if self._bar is not None and model in self._tasks:
            self._bar.update(self._tasks[model], advance=1, phase=name)
        if finished and self.enabled and self._bar is None:
            self._write(
                f"model verify {model}: done, {self._total} patterns in "
                f"{_clock(time.monotonic() - self._started)}"
            )

    # ------------------------------------------------------------------ lines

    def line(self) -> str | None:
        """The periodic plain line while patterns run (None outside the query phase)."""
        with self._lock:
            if self._model is None or not self._total or self._done >= self._total:
                return None
            return (
                f"model verify {self._model}: {self._phase}, patterns {self._done}/"
                f"{self._total}, {_clock(time.monotonic() - self._started)}"
            )

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            text = self.line()
            if text is not None:
                self._write(text)


def _rich_bar(stream: TextIO) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    return RichProgress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=False,
    )
