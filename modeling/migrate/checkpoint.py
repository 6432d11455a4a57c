"""Checkpoints: which chunks are finished, for which plan, and the run's version marker.

One small JSON file per finished chunk (`done/<chunk path>.json`, written atomically: temp file,
fsync, rename), so a `kill -9` at any moment leaves every checkpoint either absent or whole.
A rerun skips the chunks with a checkpoint and redoes the others from their start; redoing a
half-done chunk is harmless because every write is a whole-item put of the row's current data.

A checkpoint belongs to ONE plan. `run.json` records the plan's sha256 at the first start
(`bind`), and each chunk's record holds the chunk's own sha256: a resume against another plan
(re-planned with another chunk size, other rows, another model) is refused, because its chunk
files may carry the names of finished chunks while holding other keys, and skipping them would
leave rows unwritten. `run.json` also holds the marker (a resumed run must keep it: chunks
finished before the kill may have written data that the catch-up pass must still check) and
whether the catch-up pass has finished.

A damaged file (not JSON, not the expected shape) is a MigrationError naming it, never a
traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modeling.migrate.errors import MigrationError
from modeling.migrate.files import read_json_object
from modeling.migrate.plan import Chunk, Plan, atomic_write

_DAMAGED = (
    "the checkpoint directory is damaged: restore the file, or start over with a new "
    "--checkpoint directory (items are rewritten whole, so a rerun is harmless)"
)
_NEW_CHECKPOINT = (
    "resume with the plan this checkpoint was started with (--plan DIR), or start over with a "
    "new --checkpoint directory (items are rewritten whole, so redoing chunks is harmless)"
)


def _read_object(path: Path) -> dict[str, Any]:
    return read_json_object(path, _DAMAGED)


class Checkpoint:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.plan_sha256: str | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise MigrationError(
                f"--checkpoint {directory}: not a directory",
                "choose a new or existing directory for --checkpoint",
            ) from None
        except OSError as exc:
            raise MigrationError(
                f"--checkpoint {directory}: cannot create it: {exc.strerror or exc}",
                "choose a writable directory for --checkpoint",
            ) from None

    # ------------------------------------------------------------------ the plan

    def bind(self, plan: Plan) -> None:
        """Record `plan` as this checkpoint's plan, or refuse a checkpoint of another plan."""
        state = self.run_state()
        digest = plan.sha256
        recorded = state.get("plan_sha256")
        if recorded is None:
            if self._recorded_chunks():
                raise MigrationError(
                    f"{self.directory}: chunks are checkpointed but no plan is recorded (a "
                    "checkpoint of an older version of the tool, or its run.json was deleted)",
                    _NEW_CHECKPOINT,
                )
            state.update(plan_sha256=digest, plan_chunk_size=plan.chunk_size, model=plan.model)
            self.save_run_state(state)
        elif recorded != digest:
            size = state.get("plan_chunk_size")
            was = f", chunk size {size}" if size is not None else ""
            raise MigrationError(
                f"{self.directory} belongs to another plan (sha256 {str(recorded)[:12]}{was}); "
                f"this plan is {digest[:12]} (chunk size {plan.chunk_size}): its chunks may "
                "hold other keys under the names of finished ones, so resuming would skip rows",
                _NEW_CHECKPOINT,
            )
        self.plan_sha256 = digest

    def _recorded_chunks(self) -> bool:
        root = self.directory / "done"
        return root.is_dir() and any(p.name != "steps" for p in root.iterdir())

    # ------------------------------------------------------------------ chunks

    def _done_path(self, chunk_id: str) -> Path:
        return self.directory / "done" / f"{chunk_id}.json"

    def chunk_done(self, chunk: Chunk) -> bool:
        """Whether `chunk` of the bound plan is finished (its record names the same chunk)."""
        path = self._done_path(chunk.id)
        if not path.exists():
            return False
        summary = _read_object(path)
        if summary.get("sha256") != chunk.sha256 or summary.get("plan_sha256") != self.plan_sha256:
            raise MigrationError(
                f"{path}: records another chunk than the plan's {chunk.file} (its sha256 or "
                "its plan differ)",
                _NEW_CHECKPOINT,
            )
        return True

    def mark_chunk_done(self, chunk: Chunk, summary: dict[str, Any]) -> None:
        record = {**summary, "sha256": chunk.sha256, "plan_sha256": self.plan_sha256}
        atomic_write(self._done_path(chunk.id), json.dumps(record, sort_keys=True).encode())

    # ------------------------------------------------------------------ once-per-run steps

    def is_done(self, step: str) -> bool:
        """Whether a once-per-run step (`null-keys`, `duplicates`) is finished."""
        return self._done_path(f"steps/{step}").exists()

    def mark_done(self, step: str, summary: dict[str, Any]) -> None:
        record = {**summary, "plan_sha256": self.plan_sha256}
        atomic_write(self._done_path(f"steps/{step}"), json.dumps(record, sort_keys=True).encode())

    def done_summaries(self) -> list[dict[str, Any]]:
        root = self.directory / "done"
        if not root.is_dir():
            return []
        return [_read_object(p) for p in sorted(root.rglob("*.json"))]

    # ------------------------------------------------------------------ run.json

    @property
    def _run_path(self) -> Path:
        return self.directory / "run.json"

    def run_state(self) -> dict[str, Any]:
        if not self._run_path.exists():
            return {}
        state = _read_object(self._run_path)
        marker = state.get("marker")
        if marker is not None and (
            isinstance(marker, bool) or not isinstance(marker, int) or marker < 0
        ):
            raise MigrationError(
                f"{self._run_path}: marker {marker!r:.40} is not a transaction id", _DAMAGED
            )
        if "plan_sha256" in state and not isinstance(state["plan_sha256"], str):
            raise MigrationError(f"{self._run_path}: plan_sha256 is not a string", _DAMAGED)
        if "versions" in state and not isinstance(state["versions"], dict):
            raise MigrationError(f"{self._run_path}: versions is not an object", _DAMAGED)
        return state

    def save_run_state(self, state: dict[str, Any]) -> None:
        atomic_write(self._run_path, json.dumps(state, sort_keys=True, indent=2).encode("utf-8"))
