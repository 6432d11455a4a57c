"""Item versions: why a backfill never leaves an older version of a row in the table.

The race: while the application dual-writes, the backfill reads row R (version 1), the
application updates R in PostgreSQL and writes version 2 to DynamoDB, and then the backfill's
BatchWriteItem (which cannot be conditional) lands with version 1. Our design:

1. Every item carries `_version` (a number). Its source, per entity:
   - a version attribute (a required integer or datetime): integers as they are, datetimes as
     microseconds since the epoch. The model names it once (`entities.<E>.version`, else
     `source.version` for every entity that has that attribute: `ir.Entity.version`); the
     `--version-column COL` flag (`MODEL_VERSION_COLUMN` for the generated repository and
     worker) overrides the model for every entity that has COL, and `xmin` forces xmin.
     Precedence: flag > entity `version:` > `source.version` > xmin; or
   - by default PostgreSQL's `xmin` (the id of the transaction that wrote the row version):
     every committed update gives a row a newer xmin. Valid while the migration window stays
     below 2^31 transactions (xids are 32-bit and wrap); use a version attribute otherwise.
   The runner, `model migrate validate`, the worker Lambda and the dual-write repository all
   resolve the source with this rule, so they write and compare the same numbers.
2. At the first start of a run (kept in the checkpoint, so a resumed run keeps it) we take a
   marker: the oldest transaction id still running (`pg_snapshot_xmin`). Any row changed by a
   transaction that commits after the backfill started has an xmin >= the marker, whichever
   source its `_version` comes from (a per-row integer counter has no global order, xmin has).
3. The backfill writes with BatchWriteItem (fast), then a catch-up pass re-reads every row whose
   version is >= the marker and writes it with a conditional PutItem
   `attribute_not_exists(PK) OR _version < :v`. The dual-write repository writes with the same
   condition, so the newest version always wins, whoever writes last.

The stale write above requires the application's update to commit after the backfill read the
row, hence after the marker: the catch-up pass rewrites that row with its current version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modeling.core import ir
from modeling.extraction import MARKER_ALIAS, XMIN_ALIAS, marker_sql
from modeling.migrate.errors import MigrationError
from modeling.runtime import versioning as rule
from modeling.runtime.versioning import VERSION_ATTRIBUTE, XMIN, version_number

__all__ = [
    "VERSION_ATTRIBUTE",
    "XMIN",
    "VersionSource",
    "pin_versions",
    "row_version",
    "take_marker",
    "version_attribute",
    "version_number",
    "version_sources",
]


@dataclass(frozen=True)
class VersionSource:
    """Where one entity's version comes from: `xmin`, or an attribute of the entity."""

    entity: str
    attribute: str | None  # None: xmin
    kind: str = "xmin"  # xmin | integer | datetime

    @property
    def is_xmin(self) -> bool:
        return self.attribute is None


def version_attribute(entity: ir.Entity, override: str | None) -> str | None:
    """The attribute versioning `entity`'s rows, None for xmin (see the precedence above).

    An override names a column for every entity that has it; the others keep the model's
    setting, so one flag can switch the shared `updated_at` on without touching the rest.
    The rule itself is modeling/runtime/versioning.py, shared with the generated code.
    """
    return rule.version_attribute(entity.version, override, entity.attribute_names)


def version_sources(model: ir.Model, version_column: str | None) -> dict[str, VersionSource]:
    """Per entity: `version_column` (the flag) when the entity has it, else the model's
    `version` setting, else xmin. A chosen attribute must be an integer or datetime."""
    out: dict[str, VersionSource] = {}
    for e in model.entities:
        name = version_attribute(e, version_column)
        attr = e.attribute(name) if name else None
        if attr is None:
            out[e.name] = VersionSource(e.name, None)
            continue
        if attr.type.kind not in ("integer", "datetime") or attr.type.item is not None:
            raise MigrationError(
                f"{e.name}.{attr.name} is {attr.type}; a version column must be an integer or a "
                "datetime",
                hint="choose another --version-column, or leave it out to use the model's "
                "`version` setting (xmin when there is none)",
            )
        out[e.name] = VersionSource(e.name, attr.name, attr.type.kind)
    return out


def pin_versions(state: dict[str, Any], sources: Mapping[str, VersionSource]) -> None:
    """Record the run's version source per entity in its checkpoint state (`run.json`), or
    refuse a resume that would change one.

    A resumed run whose model `version:` or `--version-column` changed would give the rest of
    an entity's items numbers on another scale (xmin ~10^3..10^9, a datetime ~10^15), and the
    conditional writes would then keep whichever scale is larger, not the newest row.
    """
    current = {name: s.attribute or XMIN for name, s in sorted(sources.items())}
    recorded = state.get("versions")
    if not isinstance(recorded, dict):
        state["versions"] = current
        return
    changed = sorted(n for n in set(current) | set(recorded) if current.get(n) != recorded.get(n))
    if changed:
        was = ", ".join(f"{n}: {recorded.get(n, '-')} -> {current.get(n, '-')}" for n in changed)
        raise MigrationError(
            f"this checkpoint was started with other version sources ({was})",
            hint="resume with the same model `version:` settings and --version-column, or "
            "start over with a new --checkpoint directory (and an empty table)",
        )


def row_version(source: VersionSource, row: dict[str, Any]) -> int | None:
    """The version of a fetched row (pops the xmin helper column); None when NULL."""
    if source.is_xmin:
        return version_number(row.pop(XMIN_ALIAS))
    value = row.get(source.attribute or "")
    return None if value is None else version_number(value)


def take_marker(conn: Any) -> int:
    """The marker: the oldest transaction id still running now, as a 32-bit xid.

    Every transaction that commits after this moment has an xid >= the marker (modulo 2^32), so
    every row it changed has such an xmin, whatever its `_version` is stored from.
    """
    row = conn.execute(marker_sql(), {}).fetchone()
    return int(row[MARKER_ALIAS] if isinstance(row, Mapping) else row[0])
