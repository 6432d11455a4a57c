"""PostgreSQL reads for the migration: rows by a batch of keys, rows changed since a marker.

One `Source` per worker thread (one connection each: psycopg connections are not shared
between threads). Rows come back as dicts keyed by the model's attribute names, plus their
version (see `versioning`). Reads are in autocommit mode: each batch is its own snapshot, so a
long run never holds back VACUUM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from modeling.core import ir
from modeling.extraction import ExtractionQueries, extraction_queries
from modeling.migrate.errors import MigrationError
from modeling.migrate.versioning import VersionSource, row_version
from modeling.runtime.loaders import guard_loaders

DEFAULT_BATCH = 1_000


def key_as_text(value: Any) -> str:
    """A key value read from a row (or decoded from an item) as text `rows_by_keys` binds back,
    as the plan's chunk files hold keys: bytes as PostgreSQL's `\\x` hex (`str(b"..")` is
    `b'..'`, which no bytea column takes), anything else as its `str`."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)


@dataclass(frozen=True)
class EntityReader:
    """The SQL one entity is read with (rendered once by `extraction`, shared by every worker).

    With xmin as the version source, every row-reading statement also returns the row's xmin.
    """

    entity: str
    queries: ExtractionQueries
    version: VersionSource
    by_ids: str
    changed: str  # rows changed since %(marker)s, in key order (%(limit)s: NULL for all)
    null_keys: str  # rows with a NULL key column (up to %(limit)s)
    first_page: str  # keyset pages of every row (%(limit)s)
    next_page: str
    sample: str  # %(limit)s random rows

    @staticmethod
    def build(model: ir.Model, entity: str, version: VersionSource) -> EntityReader:
        q = extraction_queries(model, entity)
        xmin = version.is_xmin
        return EntityReader(
            entity,
            q,
            version,
            by_ids=q.by_ids_sql(xmin=xmin),
            changed=q.changed_since_sql(xmin=xmin),
            null_keys=q.null_keys_sql(),
            first_page=q.page_sql(False, xmin=xmin),
            next_page=q.page_sql(True, xmin=xmin),
            sample=q.sample_sql(xmin=xmin),
        )

    def page(self, after: bool) -> str:
        """The keyset page over every row (with the version's xmin column when it needs it)."""
        return self.next_page if after else self.first_page


class Source:
    """A connection and the readers of every entity."""

    def __init__(self, dsn: str, readers: dict[str, EntityReader]) -> None:
        import psycopg
        from psycopg.adapt import Loader
        from psycopg.rows import dict_row

        try:
            self.conn = psycopg.connect(dsn, autocommit=True, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise MigrationError(f"cannot connect to the source: {exc}", "check --source") from exc
        # a date/time value Python cannot hold fails its row, not the batch
        guard_loaders(self.conn, Loader, psycopg.DataError)
        self.readers = readers

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rows_by_keys(
        self, entity: str, keys: Sequence[Sequence[Any]]
    ) -> list[tuple[dict[str, Any], int | None]]:
        """The rows of a batch of keys (missing keys: rows deleted since the plan), versioned."""
        reader = self.readers[entity]
        params = reader.queries.ids_params(keys)
        rows = self.conn.execute(reader.by_ids, params).fetchall()
        return [(row, row_version(reader.version, row)) for row in rows]

    def changed_rows(
        self, entity: str, marker: int, page: int = DEFAULT_BATCH
    ) -> Iterator[list[tuple[dict[str, Any], int | None]]]:
        """Pages of rows whose xmin is at or after `marker`, in key order.

        One pass with a server-side cursor (keyset pages with a filter would rescan the
        unchanged rows once per page). Its snapshot is taken when the pass starts; rows
        changed later are written by the application's own conditional dual writes.
        """
        reader = self.readers[entity]
        with self.conn.transaction(), self.conn.cursor(name=f"catch_up_{id(self)}") as cur:
            cur.itersize = page
            cur.execute(reader.changed, {"marker": marker, "limit": None})
            while True:
                rows = cur.fetchmany(page)
                if not rows:
                    return
                yield [(row, row_version(reader.version, row)) for row in rows]

    def null_key_rows(
        self, entity: str, page: int = DEFAULT_BATCH
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of every row whose key has a NULL column (never written: they cannot be
        addressed), also those committed after the plan (one server-side cursor)."""
        reader = self.readers[entity]
        with self.conn.transaction(), self.conn.cursor(name=f"null_keys_{id(self)}") as cur:
            cur.itersize = page
            cur.execute(reader.null_keys, {"limit": None})
            while True:
                rows: list[dict[str, Any]] = cur.fetchmany(page)
                if not rows:
                    return
                yield rows

    def count_present(self, entity: str, attributes: Sequence[str]) -> int:
        """Rows of `entity` whose `attributes` are all not NULL (the rows a sparse key or
        relationship copy exists for)."""
        from psycopg import sql

        page = self.readers[entity].first_page
        where = sql.SQL(" AND ").join(
            sql.SQL("{} IS NOT NULL").format(sql.Identifier("s", a)) for a in attributes
        )
        query = sql.SQL("SELECT count(*) AS n FROM ({}) AS s WHERE {}").format(
            sql.SQL(page),
            where if attributes else sql.SQL("TRUE"),
        )
        row = self.conn.execute(query, {"limit": None}).fetchone()
        return int(row["n"]) if row is not None else 0

    def count(self, entity: str) -> int:
        q = self.readers[entity].queries
        row = self.conn.execute(q.count, {}).fetchone()
        if row is None:  # pragma: no cover - COUNT always returns a row
            return 0
        return int(next(iter(row.values())))
