"""The dual-write repository and what PostgreSQL's foreign-key actions do to OTHER rows.

A delete or an update through the repository makes PostgreSQL change rows the repository never
named: ON DELETE SET NULL / SET NULL (columns) / SET DEFAULT rewrite the children's foreign key
columns, ON UPDATE CASCADE / SET NULL / SET DEFAULT rewrite them when a referenced key changes,
and all of it may run through tables the model does not map. Each test does it through the
repository and then compares PostgreSQL with DynamoDB row by row (`migrate validate --full`,
versions included): before, the children's items kept the old values (and GSI keys, and table
keys), a silent divergence.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.e2e

MODEL = """\
model: teams
table: {name: Teams}
source: {dialect: postgres}
entities:
  Team:
    table: teams
    key: [team_id]
    attributes:
      team_id: integer
      tenant_id: integer
      code: string
      name: string
  Room:
    table: rooms
    key: [name]
    attributes:
      name: string
      floor: integer
  Member:
    table: members
    key: [member_id]
    attributes:
      member_id: integer
      team_id: {type: integer, required: false}
      room: {type: string, required: false}
      team_code: {type: string, required: false}
      name: string
  Task:
    table: tasks
    key: [task_id]
    attributes:
      task_id: integer
      tenant_id: integer
      team_id: {type: integer, required: false}
      title: string
  Seat:
    table: seats
    # the identity holds a column ON DELETE SET DEFAULT: the row's key changes
    key: [room, seat_no]
    attributes:
      room: string
      seat_no: integer
      label: string
  Badge:
    table: badges
    key: [badge_id]
    # the table key holds the foreign key column: a change of the team's code moves the item
    keys: {table: {pk: "TEAM#{team_code}", sk: "BADGE#{badge_id}"}}
    attributes:
      badge_id: integer
      team_code: string
      label: string
access_patterns:
  get_team:
    entity: Team
    where: {team_id: "="}
    unique: true
  get_room:
    entity: Room
    where: {name: "="}
    unique: true
  get_member:
    entity: Member
    where: {member_id: "="}
    unique: true
  members_of_team:
    entity: Member
    where: {team_id: "="}
  members_in_room:
    entity: Member
    where: {room: "="}
  get_task:
    entity: Task
    where: {task_id: "="}
    unique: true
  tasks_of_team:
    entity: Task
    where: {tenant_id: "=", team_id: "="}
  get_seat:
    entity: Seat
    where: {room: "=", seat_no: "="}
    unique: true
  badges_of_team:
    entity: Badge
    where: {team_code: "="}
"""

DDL = """
CREATE TABLE teams (team_id bigint PRIMARY KEY, tenant_id bigint NOT NULL, code text NOT NULL
  UNIQUE, name text NOT NULL, UNIQUE (tenant_id, team_id));
CREATE TABLE rooms (name text PRIMARY KEY, floor int NOT NULL);
CREATE TABLE members (member_id bigint PRIMARY KEY,
  team_id bigint REFERENCES teams ON DELETE SET NULL,
  room text DEFAULT 'lobby' REFERENCES rooms ON DELETE SET DEFAULT,
  team_code text REFERENCES teams (code) ON UPDATE SET NULL ON DELETE SET NULL,
  name text NOT NULL);
CREATE TABLE tasks (task_id bigint PRIMARY KEY, tenant_id bigint NOT NULL, team_id bigint,
  title text NOT NULL,
  FOREIGN KEY (tenant_id, team_id) REFERENCES teams (tenant_id, team_id)
    ON DELETE SET NULL (team_id));
CREATE TABLE seats (room text NOT NULL DEFAULT 'lobby' REFERENCES rooms ON DELETE SET DEFAULT,
  seat_no int NOT NULL, label text NOT NULL, PRIMARY KEY (room, seat_no));
CREATE TABLE badges (badge_id bigint PRIMARY KEY,
  team_code text NOT NULL REFERENCES teams (code) ON UPDATE CASCADE ON DELETE CASCADE,
  label text NOT NULL);
"""


def _assert_same(setup: Any) -> None:
    totals, report = setup.differences()
    assert (totals["missing"], totals["mismatched"], totals["stale"], totals["extra"]) == (
        0,
        0,
        0,
        0,
    ), report


def _load(repo: Any) -> None:
    for name, floor in (("lobby", 0), ("lab", 2), ("attic", 5)):
        repo.insert("Room", {"name": name, "floor": floor})
    for seat_no in (1, 2):
        repo.insert("Seat", {"room": "lab", "seat_no": seat_no, "label": f"s{seat_no}"})
    for team_id, code in ((1, "red"), (2, "blue")):
        repo.insert("Team", {"team_id": team_id, "tenant_id": 7, "code": code, "name": code})
    for m in range(1, 7):
        team = 1 if m <= 3 else 2
        room = ("lab", "attic", "lobby")[m % 3]
        code = "red" if team == 1 else "blue"
        member = {"member_id": m, "team_id": team, "room": room, "team_code": code, "name": "m"}
        repo.insert("Member", member)
        repo.insert("Task", {"task_id": m, "tenant_id": 7, "team_id": team, "title": f"t{m}"})
        repo.insert(
            "Badge", {"badge_id": m, "team_code": "red" if team == 1 else "blue", "label": "b"}
        )


def test_on_delete_set_null_and_set_default_rewrite_the_childrens_items(dual_write: Any) -> None:
    """Deleting team 1 nulls members.team_id and tasks.team_id (a SET NULL column list: tenant_id
    stays); deleting room `lab` sets members.room back to its default `lobby`, and the seats'
    room too (their identity: the items move to the new key); both cascade
    badges of the team. Before: the members' and tasks' items kept team 1 (and their GSI
    entries under it), the members of `lab` stayed in `lab`."""
    setup = dual_write(MODEL, DDL)
    with psycopg.connect(setup.dsn, autocommit=True) as conn:
        repo = setup.repo(conn)
        _load(repo)
        _assert_same(setup)
        assert repo.delete("Team", {"team_id": 1})
        assert repo.delete("Room", {"name": "lab"})
        assert repo.dynamodb_write_failures == 0
        members = dict(conn.execute("SELECT member_id, room FROM members WHERE team_id IS NULL"))
        assert sorted(members) == [1, 2, 3]
        assert conn.execute("SELECT count(*) FROM members WHERE room = 'lab'").fetchone() == (0,)
        seats = conn.execute("SELECT room, seat_no FROM seats ORDER BY 2").fetchall()
        assert seats == [("lobby", 1), ("lobby", 2)]
        tasks = conn.execute("SELECT tenant_id FROM tasks WHERE team_id IS NULL").fetchall()
        assert tasks == [(7,)] * 3
    _assert_same(setup)
    # the access patterns read from the indexes see the new values
    client = setup.client_module().Client(setup.table, setup.client)
    assert client.members_of_team(1) == []
    assert sorted(m["member_id"] for m in client.members_in_room("lobby")) == [2, 3, 5, 6]
    assert client.members_in_room("lab") == []
    assert client.get_seat("lab", 1) is None
    assert client.get_seat("lobby", 2)["label"] == "s2"
    assert sorted(t["task_id"] for t in client.tasks_of_team(7, 2)) == [4, 5, 6]


def test_on_update_cascade_moves_the_childrens_items_to_their_new_key(dual_write: Any) -> None:
    """Changing team 1's code (a unique key badges reference ON UPDATE CASCADE) rewrites the
    badges' `team_code`, which their table key holds: each item must move (old key retired
    with a tombstone, new one written), and nulls the members' `team_code` (ON UPDATE SET
    NULL). Before: the badges' items stayed under TEAM#red, the members kept their code."""
    setup = dual_write(MODEL, DDL)
    with psycopg.connect(setup.dsn, autocommit=True) as conn:
        repo = setup.repo(conn)
        _load(repo)
        repo.update("Team", {"team_id": 1}, {"code": "crimson"})
        repo.put("Team", {"team_id": 2, "tenant_id": 7, "code": "navy", "name": "blue"})
        assert repo.dynamodb_write_failures == 0
        codes = conn.execute("SELECT DISTINCT team_code FROM badges ORDER BY 1").fetchall()
        assert codes == [("crimson",), ("navy",)]
        # members.team_code: ON UPDATE SET NULL
        assert conn.execute("SELECT count(*) FROM members WHERE team_code IS NULL").fetchone() == (
            6,
        )
    _assert_same(setup)
    keys = sorted(i["PK"]["S"] for i in setup.items() if i["_type"]["S"] == "Badge")
    assert keys == ["TEAM#crimson"] * 3 + ["TEAM#navy"] * 3


OUTSIDE_MODEL = MODEL.replace(
    "      room: {type: string, required: false}\n",
    "      room: {type: string, required: false}\n      board_id: {type: integer, required: false}\n",
).replace(
    "access_patterns:\n",
    """  Note:
    table: notes
    key: [note_id]
    attributes:
      note_id: integer
      board_id: integer
      body: string
access_patterns:
  get_note:
    entity: Note
    where: {note_id: "="}
    unique: true
""",
)

# `boards` is in the DDL but no entity: between teams and members / notes
OUTSIDE_DDL = (
    DDL
    + """
CREATE TABLE boards (board_id bigint PRIMARY KEY,
  team_id bigint NOT NULL REFERENCES teams ON DELETE CASCADE, title text);
ALTER TABLE members ADD COLUMN board_id bigint REFERENCES boards ON DELETE SET NULL;
CREATE TABLE notes (note_id bigint PRIMARY KEY,
  board_id bigint NOT NULL REFERENCES boards ON DELETE CASCADE, body text NOT NULL);
"""
)


def test_actions_through_a_table_outside_the_model_are_followed(dual_write: Any) -> None:
    """Deleting team 2 makes PostgreSQL delete its boards (no entity), and each board's delete
    nulls `members.board_id` and deletes the board's notes. (Members of team 1 sit on team 2's
    board: PostgreSQL re-checks every foreign key of a row that two actions of one statement
    change, and board 10 is gone by then.) Before: the members' items kept
    their board, the notes' items stayed (orphans)."""
    setup = dual_write(OUTSIDE_MODEL, OUTSIDE_DDL)
    with psycopg.connect(setup.dsn, autocommit=True) as conn:
        repo = setup.repo(conn)
        _load(repo)
        conn.execute("INSERT INTO boards VALUES (10, 2, 'blue'), (11, 1, 'red')")
        for m in range(1, 7):
            repo.update("Member", {"member_id": m}, {"board_id": 10 if m <= 3 else 11})
            repo.insert("Note", {"note_id": m, "board_id": 10 if m % 2 else 11, "body": "n"})
        _assert_same(setup)
        assert repo.delete("Team", {"team_id": 2})
        assert repo.dynamodb_write_failures == 0
        assert conn.execute("SELECT count(*) FROM members WHERE board_id IS NULL").fetchone() == (
            3,
        )
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (3,)
    _assert_same(setup)
