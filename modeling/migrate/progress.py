"""Progress of a long migration step: a rich bar on a terminal, plain lines otherwise.

`migrate run > log` (or under systemd, nohup, a CI job) has no terminal on stderr: rich draws
nothing there, so the whole run was silent. `Progress` keeps the bar on a TTY and otherwise
prints one plain line to stderr every `interval` seconds (and a last one when the step ends):

    migrate run: chunks 3/10, rows 30,000/100,000 (30.0%), items 29,990, 5,123 items/s, ETA 0:00:14

Counters are thread-safe (workers call `advance` and `chunk_done` from the write pool); the
lines come from one daemon thread, so a stalled step (throttling) still reports its rate.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

DEFAULT_INTERVAL = 5.0  # seconds between plain lines


def _env_interval() -> float:
    try:
        return max(0.05, float(os.environ.get("MODELING_PROGRESS_INTERVAL", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def duration(seconds: float) -> str:
    """`H:MM:SS` (what rich's TimeRemainingColumn shows)."""
    s = max(0, round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class _Entity:
    total: int
    done: int = 0  # resumed (checkpointed) rows included
    advanced: int = 0  # this run's rows: the rate


class Progress:
    """Per-entity rows, chunks and items; a bar on a TTY, lines every `interval` s otherwise.

    `enabled=False` (e.g. `--json`): nothing at all. `stream` (default stderr) decides TTY or
    not; `interval` defaults to 5 s (`MODELING_PROGRESS_INTERVAL` overrides it).
    """

    def __init__(
        self,
        label: str,
        enabled: bool = True,
        stream: TextIO | None = None,
        interval: float | None = None,
        unit: str = "rows",
    ) -> None:
        self.label = label
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval if interval is not None else _env_interval()
        self.unit = unit
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.entities: dict[str, _Entity] = {}
        self.chunks_total = 0
        self.chunks_done = 0
        self.items = 0
        self._base_items = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._started = time.monotonic()

    # ------------------------------------------------------------------ setup

    def add(self, entity: str, total: int, done: int = 0) -> None:
        with self._lock:
            self.entities[entity] = _Entity(total, done)
        if self._bar is not None:
            self._tasks[entity] = self._bar.add_task(entity, total=total, completed=done, rate="")

    def set_chunks(self, total: int, done: int = 0) -> None:
        with self._lock:
            self.chunks_total, self.chunks_done = total, done

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if not self.enabled:
            return self
        if self.tty:
            self._bar = _rich_bar(self.stream)
            self._bar.__enter__()
            for name, e in self.entities.items():
                self._tasks[name] = self._bar.add_task(
                    name, total=e.total, completed=e.done, rate=""
                )
        else:
            self._thread = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.stream.write(self.line(final=True, failed=exc_type is not None) + "\n")
            self.stream.flush()
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    # ------------------------------------------------------------------ counters

    def advance(self, entity: str, rows: int, items: int = 0) -> None:
        with self._lock:
            e = self.entities.setdefault(entity, _Entity(0))
            e.done += rows
            e.advanced += rows
            self.items += items
            rate = self._rate(e.advanced)
        if self._bar is not None and entity in self._tasks:
            self._bar.update(self._tasks[entity], advance=rows, rate=f"{rate:,.0f} {self.unit}/s")

    def chunk_done(self) -> None:
        with self._lock:
            self.chunks_done += 1

    def _rate(self, count: float) -> float:
        return count / max(1e-6, time.monotonic() - self._started)

    # ------------------------------------------------------------------ lines

    def snapshot(self) -> Mapping[str, float]:
        with self._lock:
            total = sum(e.total for e in self.entities.values())
            done = sum(e.done for e in self.entities.values())
            advanced = sum(e.advanced for e in self.entities.values())
            return {
                "total": total,
                "done": done,
                "advanced": advanced,
                "items": self.items,
                "chunks_total": self.chunks_total,
                "chunks_done": self.chunks_done,
                "seconds": time.monotonic() - self._started,
            }

    def line(self, final: bool = False, failed: bool = False) -> str:
        """One plain progress line (what a non-TTY gets every `interval` seconds)."""
        s = self.snapshot()
        seconds = max(1e-6, s["seconds"])
        parts = []
        if s["chunks_total"]:
            parts.append(f"chunks {int(s['chunks_done'])}/{int(s['chunks_total'])}")
        rows = f"{self.unit} {int(s['done']):,}"
        if s["total"]:
            rows += f"/{int(s['total']):,} ({100 * s['done'] / s['total']:.1f}%)"
        parts.append(rows)
        parts.append(f"items {int(s['items']):,}")
        parts.append(f"{s['items'] / seconds:,.0f} items/s")
        if final:
            parts.append(f"{'stopped after' if failed else 'done in'} {duration(seconds)}")
        else:
            remaining = s["total"] - s["done"]
            rate = s["advanced"] / seconds
            if s["total"] and rate > 0:
                parts.append(f"ETA {duration(max(0.0, remaining) / rate)}")
            else:
                parts.append("ETA ?")
        return f"{self.label}: " + ", ".join(parts)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write(self.line() + "\n")
            self.stream.flush()


def _rich_bar(stream: TextIO) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    return RichProgress(
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10}"),
        TimeRemainingColumn(),
        console=Console(file=stream),
        transient=False,
    )
