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

One run at a time: `exclusive` holds an advisory lock (`flock` on `.lock`) for the whole run,
so a second `migrate run` on the same checkpoint (another terminal, a retried job) is refused
while the first one runs. Two runs on one checkpoint skip each other's chunks and `run.json`
flags: the one finishing last skipped the catch-up pass the other had finished while it was
still writing rows read before it. The kernel drops the lock with its process, so a killed
run never leaves a stale one.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
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

    # ------------------------------------------------------------------ one run at a time

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold this checkpoint for one run; MigrationError if another process holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: no advisory locks to take
            yield
            return
        path = self.directory / ".lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise MigrationError(
                f"{path}: cannot open the checkpoint's lock file: {exc.strerror or exc}",
                "choose a writable directory for --checkpoint",
            ) from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                raise MigrationError(
                    f"{self.directory}: another `migrate run` is using this checkpoint"
                    + (f" (process {holder})" if holder.isdigit() else ""),
                    "wait for it to finish (or stop it), then resume with the same "
                    "--checkpoint; two runs on one checkpoint skip each other's work",
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
            yield
        finally:
            os.close(fd)  # closing drops the lock

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
