"""The importers' self-check: a model `init` or `import` is about to write is loaded and
compiled exactly as `model validate` / `model compile` would, so a model that would fail is
never written silently — the errors are reported (and land in `--report`).

For a large model `init` runs the check in a forked child process (`start_self_check`) while
it writes the YAML text itself: the check needs only the seeded document, read back as plain
data, and the two halves are the largest parts of seeding a 50,000-table dump (issue 18 item 5).
The answer is the one `self_check` gives in this process; the child is never left running."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import traceback
from typing import Any

from modeling.api import FileResult, check_data, check_text
from modeling.compile import compile_model
from modeling.core.diagnostics import Diagnostics
from modeling.core.errors import OperationError
from modeling.importers._spec import dump_yaml
from modeling.importers._yaml_text import dump_with_data, plain_data
from modeling.spec.loader import Positions

# below this many entities the check runs in this process: a fork (and the child's copy of the
# pages it touches) costs more than the YAML text it runs beside (bench/seed.py --fork)
FORK_MIN_ENTITIES = 1000


def self_check(text: str, file: str, data: dict[str, Any] | None = None) -> list[str]:
    """The errors `model validate` then `model compile` would report for `text` (empty: ok).

    `data`, when given, is the plain data `text` reads back as (the importers' `plain_data`,
    proven equal to the loader's reading by tests/importers/test_self_check_fast.py): it is
    validated and compiled without reading the text again, which at 50,000 tables saves the
    YAML parse and its position tables (half the check's time, most of its memory). Those
    positions only locate errors, so when there is any, the text itself is checked and its
    located errors are the ones reported."""
    if data is not None:
        fast = check_data(data, Positions(file), Diagnostics(), file, text.encode("utf-8"))
        if not _errors(fast):
            return []
    return _errors(check_text(text, file))


def _errors(result: FileResult) -> list[str]:
    if not result.ok or result.model is None:
        return [d.format() for d in result.diagnostics.errors]
    _, diags = compile_model(result.model)
    return [d.format() for d in diags.errors]


def _check_document(doc: Any, file: str) -> list[str]:
    """`self_check` of the text `doc` is written as, from the document, for a caller that
    runs the JSON Schema pass on the same data (`schema_problems(plain_data(doc))`) itself and
    uses this answer only when that pass finds nothing: when the plain data passes the rest,
    the text is never needed (the check reads the text's bytes only for the model's sha256,
    which no diagnostic depends on); else the text is written (as the seeder writes it) and
    checked as `self_check` would."""
    data = plain_data(doc)
    if data is not None and not _errors(
        check_data(data, Positions(file), Diagnostics(), file, None, schema_valid=True)
    ):
        return []
    text, data = dump_with_data(doc)
    if text is None:
        text = dump_yaml(doc)
    return self_check(text, file, data)


class BackgroundCheck:
    """`self_check` of a seeded document in a forked child; `result` waits for its answer.

    Use it as a context manager: leaving the block (an error, Ctrl-C, SIGTERM's SystemExit)
    kills the child if it still runs, and waits for it."""

    def __init__(self, doc: Any, file: str) -> None:
        ctx = multiprocessing.get_context("fork")
        self._recv, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_child, args=(doc, file, send), name="model-self-check", daemon=True
        )
        # the objects alive now (the catalog, the document: 1 GB at 50,000 tables) live until
        # the end in both processes: frozen, the collector stops walking them on every full
        # collection (7% of the check's CPU at 20,000 tables) and, in the child, stops
        # copying their pages; the parent unfreezes them when the check is over (`stop`)
        self._frozen = gc.get_freeze_count() == 0
        if self._frozen:
            gc.freeze()
        try:
            self._process.start()
        except BaseException:
            self._unfreeze()
            raise
        send.close()  # only the child's copy stays open: its end is EOF here
        self._stopped = False

    def _unfreeze(self) -> None:
        if self._frozen:
            self._frozen = False
            gc.unfreeze()

    def result(self) -> tuple[str, Any]:
        """("errors", [...]) or ("raised", traceback text): the child's answer; a child that
        ended without one (killed, out of memory) is an OperationError."""
        try:
            answer: tuple[str, Any] = self._recv.recv()
        except (EOFError, OSError):
            self._process.join()
            raise OperationError(
                "the self-check (model validate/compile of the seeded model) ran in a child "
                f"process that ended without an answer ({_ended(self._process.exitcode)})"
            ) from None
        self._process.join()
        return answer

    def stop(self) -> None:
        """Kill the child if it still runs, and wait for it (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._unfreeze()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._process.close()
        self._recv.close()

    def __enter__(self) -> BackgroundCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _child(doc: Any, file: str, send: Any) -> None:
    # the parent stops the child itself (kill on SIGTERM, Ctrl-C or any error): the inherited
    # handler would raise SystemExit here; Ctrl-C reaches the whole process group, so it is
    # ignored here too and the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # no collections here: the objects inherited are frozen, and this short-lived process
    # frees everything it allocates when it exits (5% of the check's CPU at 20,000 tables)
    gc.disable()
    try:
        answer: tuple[str, Any] = ("errors", _check_document(doc, file))
    except BaseException:  # any failure goes to the parent, which runs the check again
        answer = ("raised", traceback.format_exc())
    send.send(answer)
    send.close()
    os._exit(0)  # no atexit handlers, no flush of the parent's inherited buffers


def fork_available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()
