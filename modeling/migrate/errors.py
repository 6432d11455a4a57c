"""The one error the migration raises for bad input or an unusable setup."""

from __future__ import annotations

from modeling.core.errors import InputError


class MigrationError(InputError, RuntimeError):
    """A problem the operator must fix (bad plan, unreachable database, missing column).

    `hint` says what to do; the CLI prints both and exits 2.
    """

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
