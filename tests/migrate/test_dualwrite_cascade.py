"""The dual-write repository and PostgreSQL's own side effects (omdb's schema, `model migrate
demo`: 99 orphaned items).

A delete through the repository that PostgreSQL cascades (foreign keys ON DELETE CASCADE)
removed the dependent rows in PostgreSQL only: their items stayed in DynamoDB, orphans no
later write ever removes. The repository now reads the rows a delete cascades to (any depth,
a self-reference included) before the delete, and retires their items after the commit. A
PostgreSQL write that fails (a value out of range, a foreign key) leaves no item either.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.e2e

MODEL = """\
model: films
table: {name: Films}
source: {dialect: postgres}
entities:
  Movie:
    table: movies
    key: [movie_id]
    attributes:
      movie_id: integer
      title: string
  Cast:
    table: casts
    key: [movie_id, person_id]
    parent: Movie
    attributes:
      movie_id: {type: integer, references: Movie}
      person_id: integer
      position: {type: integer, required: false}
  Category:
    table: categories
    key: [id]
    attributes:
      id: integer
      parent_id: {type: integer, required: false}
      name: string
access_patterns:
  get_movie:
    entity: Movie
    where: {movie_id: "="}
    unique: true
  cast_of_movie:
    entity: Cast
    where: {movie_id: "="}
  get_category:
    entity: Category
    where: {id: "="}
    unique: true
  children_of_category:
    entity: Category
    where: {parent_id: "="}
"""

DDL = """
CREATE TABLE movies (movie_id bigint PRIMARY KEY, title text NOT NULL);
CREATE TABLE casts (movie_id bigint, person_id bigint, position int, PRIMARY KEY (movie_id, person_id));
CREATE TABLE categories (id bigint PRIMARY KEY, parent_id bigint, name text NOT NULL);
ALTER TABLE casts ADD FOREIGN KEY (movie_id) REFERENCES movies (movie_id) ON DELETE cascade;
ALTER TABLE categories ADD FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE cascade;
"""


def _types(client: Any, table: str) -> list[tuple[str, str]]:
    items = client.scan(TableName=table)["Items"]
    return sorted(
        (i["_type"]["S"], str(i.get("movie_id", i.get("id", {})).get("N")))
        for i in items
        if "_type" in i
    )


def _update_while_waiting(holder: Any, repo: Any, deleting: Any) -> None:
    """Update row 3 through `repo` while the delete waits for `holder`'s lock on row 2, then
    let the delete go on; both end."""
    import threading

    updating = threading.Thread(
        target=repo.update, args=("Category", {"id": 3}, {"name": "renamed"})
    )
    updating.start()
    for _ in range(100):  # the update ends (before) or waits for the delete's lock (now)
        updating.join(0.05)
        if not updating.is_alive():
            break
        busy = holder.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()
        if busy == (2,):
            break
    holder.rollback()
    deleting.join(10)
    updating.join(10)
    assert not deleting.is_alive() and not updating.is_alive()


def test_a_cascaded_delete_leaves_no_orphan_item_and_a_failed_write_no_item(
    dual_write: Any,
) -> None:
    films = dual_write(MODEL, DDL)
    client, table = films.client, films.table
    with psycopg.connect(films.dsn, autocommit=True) as conn:
        repo = films.repo(conn)
        for m in (1, 2):
            repo.insert("Movie", {"movie_id": m, "title": f"m{m}"})
            for p in (10, 11, 12):
                repo.insert("Cast", {"movie_id": m, "person_id": p, "position": p})
        # a tree: 1 <- 2 <- 3, 1 <- 4; 5 alone
        for cid, parent in ((1, None), (2, 1), (3, 2), (4, 1), (5, None)):
            repo.insert("Category", {"id": cid, "parent_id": parent, "name": f"c{cid}"})
        # PostgreSQL refuses these: nothing may reach DynamoDB
        with pytest.raises(psycopg.errors.NumericValueOutOfRange):
            repo.insert("Cast", {"movie_id": 2, "person_id": 13, "position": 2**40})
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            repo.insert("Cast", {"movie_id": 99, "person_id": 1, "position": 1})
        before = _types(client, table)
        assert len(before) == 2 + 6 + 5, before
        assert repo.delete("Movie", {"movie_id": 1})
        assert repo.delete("Category", {"id": 1})
        rows = {
            "Movie": conn.execute("SELECT movie_id FROM movies").fetchall(),
            "Cast": conn.execute("SELECT movie_id FROM casts").fetchall(),
            "Category": conn.execute("SELECT id FROM categories").fetchall(),
        }
    expected = sorted((entity, str(r[0])) for entity, found in rows.items() for r in found)
    assert expected == [("Cast", "2")] * 3 + [("Category", "5"), ("Movie", "2")]
    # every item has its row, every row its item: no orphan left by the cascade
    assert _types(client, table) == expected


def test_a_dependent_row_inserted_while_its_parent_is_deleted_leaves_no_orphan(
    dual_write: Any,
) -> None:
    """A Cast row inserted (not yet committed) when its Movie's delete starts: PostgreSQL's
    cascade deletes it once it commits, so the delete must see it (it locks the Movie first
    and waits), else the inserting writer's item stays an orphan (seen in omdb's demo now and
    then: the concurrent application inserts casts of movies it deletes)."""
    import threading

    films = dual_write(MODEL, DDL)
    client, table, dsn = films.client, films.table, films.dsn
    with (
        psycopg.connect(dsn, autocommit=True) as conn_a,
        psycopg.connect(dsn, autocommit=True) as conn_b,
        psycopg.connect(dsn) as writer,
    ):
        repo_a = films.repo(conn_a)
        repo_b = films.repo(conn_b)
        repo_a.insert("Movie", {"movie_id": 1, "title": "m1"})
        # another writer's insert, committed only after the delete started
        xmin = writer.execute(
            "INSERT INTO casts VALUES (1, 99, 1) RETURNING xmin::text"
        ).fetchone()[0]
        deleting = threading.Thread(target=repo_a.delete, args=("Movie", {"movie_id": 1}))
        deleting.start()
        deleting.join(1.0)
        writer.commit()
        # that writer's DynamoDB half, after its commit (as the repository does)
        repo_b._dual("Cast", {"movie_id": 1, "person_id": 99, "position": 1}, int(xmin))
        deleting.join(10)
        assert not deleting.is_alive()
        assert conn_a.execute("SELECT count(*) FROM casts").fetchone() == (0,)
    assert _types(client, table) == []


def test_the_repository_inserts_into_a_partitioned_table(dual_write: Any) -> None:
    """GitLab's `activities` / `notes` are PARTITION BY LIST: PostgreSQL refuses `RETURNING
    xmin` of an INSERT into them (FeatureNotSupported: cannot retrieve a system column in this
    context), so every insert through the repository failed (application errors in gisia's
    demo). The row's xmin is read after the INSERT: both stores hold the row, at its version."""
    films = dual_write(
        MODEL,
        [
            "CREATE TABLE movies (movie_id bigint, title text NOT NULL, PRIMARY KEY (movie_id))"
            " PARTITION BY RANGE (movie_id)",
            "CREATE TABLE movies_low PARTITION OF movies FOR VALUES FROM (0) TO (100)",
            "CREATE TABLE movies_rest PARTITION OF movies DEFAULT",
        ],
    )
    client, table, dsn = films.client, films.table, films.dsn
    with psycopg.connect(dsn, autocommit=True) as conn:
        repo = films.repo(conn)
        repo.insert("Movie", {"movie_id": 1, "title": "low"})
        repo.put("Movie", {"movie_id": 500, "title": "rest"})
        xmins = dict(conn.execute("SELECT movie_id, xmin::text FROM movies").fetchall())
    items = {
        int(i["movie_id"]["N"]): int(i["_version"]["N"])
        for i in client.scan(TableName=table)["Items"]
    }
    assert items == {k: int(v) for k, v in xmins.items()}


def test_a_cascaded_row_updated_after_the_delete_began_leaves_no_orphan(dual_write: Any) -> None:
    """The delete's transaction id is assigned when it locks the deleted row, before it walks
    the rows PostgreSQL cascades to: a dependent row updated meanwhile (through the repository,
    committed before the walk reaches it) holds a newer xmin than the delete's id, so its
    item and the retire's tombstone at the delete's id lost to it: an orphaned item (omdb's
    demo: one Category item, two self-referencing cascades, now and then). A cascaded row is
    now retired at a version newer than the row as read."""
    import threading

    films = dual_write(MODEL, DDL)
    client, table, dsn = films.client, films.table, films.dsn
    with (
        psycopg.connect(dsn, autocommit=True) as conn_a,
        psycopg.connect(dsn, autocommit=True) as conn_b,
        psycopg.connect(dsn) as holder,
    ):
        repo_a = films.repo(conn_a)
        repo_b = films.repo(conn_b)
        for cid, parent in ((1, None), (2, 1), (3, 2)):
            repo_a.insert("Category", {"id": cid, "parent_id": parent, "name": f"c{cid}"})
        # another transaction holds row 2: the delete takes its id (locking row 1), then waits
        holder.execute("SELECT 1 FROM categories WHERE id = 2 FOR SHARE")
        deleting = threading.Thread(target=repo_a.delete, args=("Category", {"id": 1}))
        deleting.start()
        for _ in range(100):
            waiting = holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()
            if waiting == (1,):
                break
            deleting.join(0.05)
        assert waiting == (1,), "the delete never waited for row 2"
        # row 3 (cascaded from 1 through 2) updated now: a transaction id after the delete's
        # (before: it went through; now it waits for the delete, which holds row 3's lock)
        _update_while_waiting(holder, repo_b, deleting)
        assert conn_a.execute("SELECT count(*) FROM categories").fetchone() == (0,)
        assert repo_a.dynamodb_write_failures == 0
    assert _types(client, table) == []


def test_a_cascaded_rows_key_reinserted_right_after_the_delete_keeps_its_item(
    dual_write: Any,
) -> None:
    """The same race with an update outside the repository (a batch job's SQL: it takes no
    repository lock, so it does not wait for the delete), then the cascaded row's key inserted
    again at once. Before, the delete retired row 3 at one more than its xmin (the update's
    id, newer than the delete's): the very next transaction id. The re-insert got that id, so
    its item tied the tombstone and was refused: the row in PostgreSQL, no item in DynamoDB.
    Now the delete sees a row written by a newer transaction, rolls back and runs again with
    an id newer than that row's, and retires every row at its own id, which no other
    transaction holds."""
    import threading

    films = dual_write(MODEL, DDL)
    with (
        psycopg.connect(films.dsn, autocommit=True) as conn_a,
        psycopg.connect(films.dsn, autocommit=True) as conn_b,
        psycopg.connect(films.dsn) as holder,
    ):
        repo_a = films.repo(conn_a)
        repo_b = films.repo(conn_b)
        for cid, parent in ((1, None), (2, 1), (3, 2)):
            repo_a.insert("Category", {"id": cid, "parent_id": parent, "name": f"c{cid}"})
        holder.execute("SELECT 1 FROM categories WHERE id = 2 FOR SHARE")
        deleting = threading.Thread(target=repo_a.delete, args=("Category", {"id": 1}))
        deleting.start()
        for _ in range(100):
            waiting = holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()
            if waiting == (1,):
                break
            deleting.join(0.05)
        assert waiting == (1,), "the delete never waited for row 2"
        conn_b.execute("UPDATE categories SET name = 'renamed' WHERE id = 3")
        holder.rollback()
        deleting.join(10)
        assert not deleting.is_alive()
        # the key of cascaded row 3 again, in the next transaction
        repo_b.insert("Category", {"id": 3, "parent_id": None, "name": "again"})
        assert conn_a.execute("SELECT id, name FROM categories").fetchall() == [(3, "again")]
        assert repo_a.dynamodb_write_failures == 0
        assert repo_b.stale_writes == 0
    assert _types(films.client, films.table) == [("Category", "3")]
    totals, report = films.differences()
    assert (totals["missing"], totals["mismatched"], totals["extra"]) == (0, 0, 0), report


# `categories` with a gate: an index (made before the primary key, so PostgreSQL fills it
# first) whose function waits while the test holds advisory lock 42. An INSERT stops there
# after it has its transaction id and before its key is checked against the primary key.
GATED_DDL = [
    "CREATE FUNCTION gate(t text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS"
    " $$ BEGIN PERFORM pg_advisory_xact_lock_shared(42); RETURN t; END $$",
    "CREATE TABLE movies (movie_id bigint PRIMARY KEY, title text NOT NULL)",
    "CREATE TABLE casts (movie_id bigint, person_id bigint, position int,"
    " PRIMARY KEY (movie_id, person_id))",
    "CREATE TABLE categories (id bigint NOT NULL, parent_id bigint, name text NOT NULL)",
    "CREATE INDEX categories_gate ON categories (gate(name))",
    "ALTER TABLE categories ADD PRIMARY KEY (id)",
    "ALTER TABLE categories ADD FOREIGN KEY (parent_id) REFERENCES categories (id)"
    " ON DELETE cascade",
]


def test_a_reinsert_whose_id_precedes_the_cascading_delete_cannot_lose_its_item(
    dual_write: Any,
) -> None:
    """A re-insert of a cascaded row's key that took its transaction id before the delete took
    its own, and whose key is checked after the delete removed the row: PostgreSQL keeps the
    re-inserted row, but its item (at its older id) lost to the delete's tombstone. Before, the
    delete took no repository lock for the rows it cascades to. Now it takes them (before its
    id): the writer that holds one finishes first (here its insert meets the existing key and
    fails), so both stores agree."""
    import threading

    films = dual_write(MODEL, GATED_DDL)
    outcome: dict[str, Any] = {}

    def reinsert(repo: Any) -> None:
        try:
            repo.insert("Category", {"id": 3, "parent_id": None, "name": "again"})
            outcome["insert"] = "ok"
        except psycopg.Error as exc:
            outcome["insert"] = type(exc).__name__

    def waiting(conn: Any) -> int:
        return int(
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()[0]
        )

    with (
        psycopg.connect(films.dsn, autocommit=True) as conn_a,
        psycopg.connect(films.dsn, autocommit=True) as conn_b,
        psycopg.connect(films.dsn, autocommit=True) as holder,
    ):
        repo_a = films.repo(conn_a)
        repo_b = films.repo(conn_b)
        for cid, parent in ((1, None), (2, 1), (3, 2)):
            repo_a.insert("Category", {"id": cid, "parent_id": parent, "name": f"c{cid}"})
        holder.execute("SELECT pg_advisory_lock(42)")
        inserting = threading.Thread(target=reinsert, args=(repo_b,))
        inserting.start()
        for _ in range(100):
            if waiting(holder) == 1:
                break
            inserting.join(0.05)
        assert waiting(holder) == 1, "the insert never reached the gate"
        deleting = threading.Thread(target=repo_a.delete, args=("Category", {"id": 1}))
        deleting.start()
        for _ in range(100):  # the delete ends (before) or waits for the insert (now)
            if not deleting.is_alive() or waiting(holder) == 2:
                break
            deleting.join(0.05)
        holder.execute("SELECT pg_advisory_unlock(42)")
        inserting.join(10)
        deleting.join(10)
        assert not inserting.is_alive() and not deleting.is_alive()
        rows = conn_a.execute("SELECT id FROM categories ORDER BY id").fetchall()
        assert repo_a.dynamodb_write_failures == 0
    assert outcome["insert"] in ("ok", "UniqueViolation")
    expected = [("Category", str(r[0])) for r in rows]
    assert _types(films.client, films.table) == expected
