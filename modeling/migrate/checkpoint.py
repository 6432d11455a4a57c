"""Checkpoints: which chunks are finished, and the run's version marker.

One small JSON file per finished chunk (`done/<chunk path>.json`, written atomically: temp file,
fsync, rename), so a `kill -9` at any moment leaves every checkpoint either absent or whole.
A rerun skips the chunks with a checkpoint and redoes the others from their start; redoing a
half-done chunk is harmless because every write is a whole-item put of the row's current data.
`run.json` holds the marker taken at the FIRST start (a resumed run must keep it: chunks
finished before the kill may have written data that the catch-up pass must still check) and
whether the catch-up pass has finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modeling.migrate.plan import atomic_write


class Checkpoint:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _done_path(self, chunk_id: str) -> Path:
        return self.directory / "done" / f"{chunk_id}.json"

    def is_done(self, chunk_id: str) -> bool:
        return self._done_path(chunk_id).is_file()

    def mark_done(self, chunk_id: str, summary: dict[str, Any]) -> None:
        data = json.dumps(summary, sort_keys=True).encode("utf-8")
        atomic_write(self._done_path(chunk_id), data)

    def done_summaries(self) -> list[dict[str, Any]]:
        root = self.directory / "done"
        if not root.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(root.rglob("*.json"))]

    @property
    def _run_path(self) -> Path:
        return self.directory / "run.json"

    def run_state(self) -> dict[str, Any]:
        if not self._run_path.is_file():
            return {}
        data: dict[str, Any] = json.loads(self._run_path.read_text(encoding="utf-8"))
        return data

    def save_run_state(self, state: dict[str, Any]) -> None:
        atomic_write(self._run_path, json.dumps(state, sort_keys=True, indent=2).encode("utf-8"))
