"""Read a PostgreSQL DDL file (pg_dump `--schema-only`, Rails `structure.sql`, hand-written
install scripts) into a `Catalog`.

Real dumps are messy, so: statements are split by our own lexer (`_split`), psql meta-commands
and COPY data are skipped, one bad statement never aborts the file, and each table's facts are
merged across statements (inline and `ALTER TABLE … ADD CONSTRAINT` keys, `SET DEFAULT nextval`,
`OWNED BY`, identity in both forms, `ATTACH PARTITION`). Table-shaped statements are read from
sqlglot's tokens by a small reader (`_tokens`) because sqlglot's parser rejects or leaves opaque
many of them; everything skipped is recorded with its kind and line for the summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from modeling.core import inputs
from modeling.core.diagnostics import Diagnostics, Span
from modeling.pg import collations as collation
from modeling.pg.catalog import (
    Catalog,
    Collation,
    Column,
    CompositeType,
    Domain,
    EnumType,
    ForeignKey,
    Index,
    QName,
    Skipped,
    Table,
    UniqueKey,
)
from modeling.pg.check_constraints import note_check
from modeling.pg.split import Statement, split_statements
from modeling.pg.tokens import (
    STRING_TYPES,
    Cursor,
    DDLSyntaxError,
    is_word,
    name_of,
    split_top,
    sub,
    tokenize,
)
from modeling.pg.types import SERIALS, canonical

# First words of every PostgreSQL (and psql-visible) command: a statement starting otherwise
# is not SQL at all and is reported as garbage with its line.
SQL_COMMANDS = frozenset(
    [
        "ABORT",
        "ALTER",
        "ANALYZE",
        "ANALYSE",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "CLOSE",
        "CLUSTER",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DECLARE",
        "DELETE",
        "DISCARD",
        "DO",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "FETCH",
        "GRANT",
        "IMPORT",
        "INSERT",
        "LISTEN",
        "LOAD",
        "LOCK",
        "MERGE",
        "MOVE",
        "NOTIFY",
        "PREPARE",
        "REASSIGN",
        "REFRESH",
        "REINDEX",
        "RELEASE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SECURITY",
        "SELECT",
        "SET",
        "SHOW",
        "START",
        "TABLE",
        "TRUNCATE",
        "UNLISTEN",
        "UPDATE",
        "VACUUM",
        "VALUES",
        "WITH",
    ]
)
_COLUMN_CONSTRAINT_WORDS = (
    "CONSTRAINT",
    "NOT",
    "NULL",
    "DEFAULT",
    "PRIMARY",
    "UNIQUE",
    "REFERENCES",
    "CHECK",
    "GENERATED",
    "COLLATE",
    "DEFERRABLE",
    "INITIALLY",
    "COMPRESSION",
    "STORAGE",
)
_TABLE_CONSTRAINT_WORDS = ("CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "LIKE")
_NEXTVAL = re.compile(r"nextval\s*\(\s*'([^']+)'", re.IGNORECASE)


@dataclass
class DDLResult:
    catalog: Catalog
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


class _Reader:
    """Statement handlers writing into one catalog; `default_schema` follows search_path."""

    def __init__(self, source: str) -> None:
        self.catalog = Catalog(source=source)
        self.diags = Diagnostics()
        self.source = source
        self.default_schema = "public"
        self.recognized = 0  # statements that were SQL (used or skipped on purpose)
        self.unreadable_creates: set[QName] = set()  # reported as SEED001 already
        self.created: set[QName] = set()  # tables a CREATE TABLE made (a zero-column one too)

    # ------------------------------------------------------------------ helpers
    def qname(self, parts: list[object]) -> QName:
        names = [name_of(p) for p in parts]  # type: ignore[arg-type]
        if len(names) == 1:
            return (self.default_schema, names[0])
        return (names[-2], names[-1])

    def skip(self, kind: str, line: int, reason: str = "not part of the data model") -> None:
        self.catalog.skipped.append(Skipped(kind, line, reason))

    def problem(self, kind: str, line: int, reason: str) -> None:
        self.catalog.skipped.append(Skipped(kind, line, reason, problem=True))
        self.diags.warning(
            "SEED001",
            f"skipped {kind} statement: {reason}",
            Span(self.source, line, 1),
            hint="the rest of the file was read; fix or remove this statement to seed it",
        )

    def table(self, q: QName, line: int) -> Table:
        t = self.catalog.tables.get(q)
        if t is None:
            # ALTER on a table we never saw created (e.g. a filtered dump): remember the facts.
            t = Table(q[0], q[1], line=line)
            self.catalog.tables[q] = t
        return t

    # ------------------------------------------------------------------ dispatch
    def statement(self, st: Statement) -> None:
        self.catalog.statements += 1
        if st.kind == "meta":
            self.recognized += 1
            word = st.text.split()[0]
            self.skip(f"psql {word}", st.line, "psql meta-command")
            return
        if st.kind == "copy_data":
            self.recognized += 1
            self.catalog.statements -= 1  # data, not a statement
            self.skip("COPY data", st.line, "data rows are not read")
            return
        try:
            toks = tokenize(st.text)
        except (TokenError, ValueError) as e:
            self.problem("unreadable", st.line, f"cannot tokenize: {str(e).splitlines()[0][:120]}")
            return
        if not toks:
            return
        cur = Cursor(toks, st.text, st.line)
        first = toks[0].text.upper()
        if toks[0].token_type is TokenType.L_PAREN or first in SQL_COMMANDS:
            self.recognized += 1
        else:
            self.problem(
                "not SQL", st.line, f"does not start with an SQL command ({toks[0].text[:40]!r})"
            )
            return
        try:
            self.dispatch(cur)
        except DDLSyntaxError as e:
            self.problem(_kind(cur), e.line, str(e))
            if _kind(cur) == "CREATE TABLE":
                self.unreadable_creates.update(
                    q for q, t in self.catalog.tables.items() if t.line == st.line
                )
        except (IndexError, AttributeError, TypeError) as e:  # reader gap: report, never crash
            self.problem(_kind(cur), st.line, f"could not read ({type(e).__name__})")

    def dispatch(self, cur: Cursor) -> None:
        line = cur.line()
        if cur.accept("CREATE"):
            cur.accept("OR", "REPLACE")
            temporary = False
            for w in ("GLOBAL", "LOCAL", "TEMPORARY", "TEMP", "UNLOGGED"):
                if cur.accept(w) and w.startswith("TEMP"):
                    temporary = True
            if temporary and cur.kw("TABLE"):
                # a session's scratch table: it holds no data to migrate and is no entity
                self.skip("CREATE TEMP TABLE", line, "a temporary table lives for one session")
                self.diags.info(
                    "SEED004",
                    "CREATE TEMP TABLE skipped: a temporary table lives for one session and "
                    "holds nothing to migrate",
                    Span(self.source, line, 1),
                    hint="make it a regular table in the DDL if it is one in production",
                )
                return None
            if cur.accept("TABLE"):
                return self.create_table(cur, line)
            if cur.kw("TYPE"):
                return self.create_type(cur, line)
            if cur.accept("DOMAIN"):
                return self.create_domain(cur, line)
            if cur.kw("SCHEMA"):
                return self.create_schema(cur, line)
            if cur.kw("INDEX") or cur.kw("UNIQUE", "INDEX"):
                return self.create_index(cur, line)
            if cur.accept("COLLATION"):
                return self.create_collation(cur, line)
            if cur.accept("DATABASE"):
                return self.create_database(cur, line)
            if cur.accept("SEQUENCE"):
                return self.create_sequence(cur, line)
        elif cur.accept("ALTER"):
            if cur.accept("TABLE"):
                return self.alter_table(cur, line)
            if cur.accept("SEQUENCE"):
                return self.alter_sequence(cur, line)
            if cur.accept("INDEX"):
                return self.alter_index(cur, line)
            if cur.kw("TYPE"):
                return self.alter_type(cur, line)
        elif cur.accept("DROP"):
            if cur.accept("TABLE"):
                return self.drop_tables(cur, line)
            if cur.accept("INDEX"):
                return self.drop_indexes(cur, line)
            if cur.accept("TYPE") or cur.accept("DOMAIN"):
                return self.drop_types(cur, line)
        elif cur.accept("COMMENT", "ON"):
            return self.comment(cur, line)
        elif cur.accept("SET"):
            return self.set_stmt(cur, line)
        self.skip(_kind(cur), line)

    # ------------------------------------------------------------------ CREATE TABLE
    def create_table(self, cur: Cursor, line: int) -> None:
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        parts = cur.qualified()
        q = self.qname(parts)  # type: ignore[arg-type]
        existing = self.catalog.tables.get(q)
        if if_not_exists and q in self.created and existing is not None:
            # PostgreSQL leaves the table it has as it is (NOTICE): its columns are not these
            return self.skip("CREATE TABLE", line, "IF NOT EXISTS on a table made before")
        t = existing if existing is not None else Table(q[0], q[1], line=line)
        t.line = line
        self.created.add(q)
        last = parts[-1]
        if last.token_type is not TokenType.IDENTIFIER and last.text != last.text.lower():
            t.spelling = last.text
        self.catalog.tables[q] = t
        if cur.accept("OF"):
            raise DDLSyntaxError("typed tables (CREATE TABLE … OF type) are not read", line)
        if cur.accept("PARTITION", "OF"):
            parent = self.qname(cur.qualified())  # type: ignore[arg-type]
            self.attach(t, parent)
        if cur.is_type(TokenType.L_PAREN):
            a, b = cur.skip_group()
            try:
                for ea, eb in split_top(cur, a, b):
                    self.table_element(t, sub(cur, ea, eb))
            except DDLSyntaxError:
                if existing is None:  # never keep a half-read table
                    del self.catalog.tables[q]
                raise
        elif cur.accept("AS"):
            raise DDLSyntaxError("CREATE TABLE … AS has no column list to read", line)
        while not cur.at_end():
            if cur.accept("PARTITION", "BY"):
                s, e = cur.until(())
                t.partitioned_by = cur.slice_text(s, e) if e > s else None
                while not cur.at_end():
                    if cur.is_type(TokenType.L_PAREN):
                        s2, e2 = cur.skip_group()
                        t.partitioned_by = (
                            (t.partitioned_by or "") + "(" + cur.slice_text(s2, e2) + ")"
                        )
                    else:
                        break
                continue
            if cur.accept("INHERITS") and cur.is_type(TokenType.L_PAREN):
                a, b = cur.skip_group()
                parents = [self.qname(sub(cur, x, y).qualified()) for x, y in split_top(cur, a, b)]  # type: ignore[arg-type]
                self.inherit(t, parents)
                continue
            cur.next()

    def inherit(self, t: Table, parents: list[QName]) -> None:
        """`INHERITS (p, …)`: the parents' columns come first, with their NOT NULL, defaults
        and CHECK-proven lengths (not their keys: PostgreSQL does not inherit those); a
        column the child declares too is merged into the inherited one."""
        columns: dict[str, Column] = {}
        for pq in parents:
            parent = self.catalog.tables.get(pq)
            if parent is None:
                continue
            for name, col in parent.columns.items():
                if name not in columns:
                    columns[name] = replace(col, serial=False, identity=None, comment=None)
        for name, col in t.columns.items():
            inherited = columns.get(name)
            if inherited is not None:
                col.not_null = col.not_null or inherited.not_null
                col.default = col.default or inherited.default
            columns[name] = col
        t.columns = columns

    def attach(self, child: Table, parent: QName) -> None:
        child.partition_of = parent
        p = self.table(parent, child.line)
        if child.qname not in p.partitions:
            p.partitions.append(child.qname)

    def table_element(self, t: Table, cur: Cursor) -> None:
        if cur.at_end():
            return
        if cur.kw_any(_TABLE_CONSTRAINT_WORDS):
            return self.table_constraint(t, cur)
        self.column_def(t, cur)

    def column_def(self, t: Table, cur: Cursor) -> None:
        name_tok = cur.word("a column name")
        name = name_of(name_tok)
        line = cur.line(name_tok)
        col = t.columns.get(name) or Column(name, "", line=line)
        col.line = line
        if t.partition_of is not None and not cur.at_end() and cur.kw("WITH", "OPTIONS"):
            cur.accept("WITH", "OPTIONS")
        a, b = cur.until(_COLUMN_CONSTRAINT_WORDS)
        type_text = cur.slice_text(a, b)
        if type_text:
            col.type = type_text
            if type_text.strip().lower() in SERIALS:
                col.serial = True
                col.not_null = True  # serial implies NOT NULL
        self.column_constraints(t, col, cur)
        t.columns[name] = col

    def column_constraints(self, t: Table, col: Column, cur: Cursor) -> None:
        cname: str | None = None
        while not cur.at_end():
            line = cur.line()
            if cur.accept("CONSTRAINT"):
                cname = name_of(cur.word())
                continue
            if cur.accept("NOT", "NULL"):
                col.not_null = True
            elif cur.accept("NULL"):
                pass
            elif cur.accept("DEFAULT"):
                # `DEFAULT NULL::timestamp without time zone` (pg_dump): that NULL starts the
                # expression, it is not the NULL constraint
                first = cur.i
                if cur.kw("NULL"):
                    cur.next()
                _, b = cur.until(_COLUMN_CONSTRAINT_WORDS)
                col.default = cur.slice_text(first, b)
                self.note_nextval(t, col)
            elif cur.accept("PRIMARY", "KEY"):
                t.primary_key = [col.name]
                t.pk_name, t.pk_line = cname, line
                col.not_null = True
                self.index_params(cur)
            elif cur.accept("UNIQUE"):
                cur.accept("NULLS", "NOT", "DISTINCT") or cur.accept("NULLS", "DISTINCT")
                t.uniques.append(UniqueKey([col.name], cname, line))
                self.index_params(cur)
            elif cur.accept("REFERENCES"):
                ref, ref_cols = self.references(cur)
                t.foreign_keys.append(ForeignKey([col.name], ref, ref_cols, cname, line))
            elif cur.accept("CHECK"):
                a, b = cur.skip_group()
                note_check(t, cur.slice_text(a, b), own=col)
                cur.accept("NO", "INHERIT")
            elif cur.accept("GENERATED"):
                self.generated(col, cur)
            elif cur.accept("COLLATE"):
                col.collation = collation_ref(cur.qualified())
            elif cur.accept("COMPRESSION") or cur.accept("STORAGE"):
                cur.next()
            elif cur.accept("DEFERRABLE") or cur.accept("NOT", "DEFERRABLE"):
                pass
            elif cur.accept("INITIALLY"):
                cur.next()
            else:
                tok = cur.next()
                raise DDLSyntaxError(f"unexpected {tok.text!r} in column {col.name}", cur.line(tok))
            cname = None

    def generated(self, col: Column, cur: Cursor) -> None:
        if cur.accept("ALWAYS"):
            kind = "always"
        else:
            cur.expect("BY", "DEFAULT")
            kind = "by default"
        cur.expect("AS")
        if cur.accept("IDENTITY"):
            col.identity = kind
            col.not_null = True
            if cur.is_type(TokenType.L_PAREN):
                cur.skip_group()
            return
        a, b = cur.skip_group()
        col.generated = cur.slice_text(a, b)
        col.generated_kind = "virtual"  # PostgreSQL 18's default
        if cur.accept("STORED"):
            col.generated_kind = "stored"
        elif cur.accept("VIRTUAL"):
            col.generated_kind = "virtual"

    def index_params(self, cur: Cursor) -> None:
        """Skip `INCLUDE (...)`, `WITH (...)`, `USING INDEX TABLESPACE x` after a key."""
        while True:
            if cur.accept("INCLUDE") or cur.accept("WITH"):
                cur.skip_group()
            elif cur.accept("USING", "INDEX", "TABLESPACE"):
                cur.word()
            else:
                return

    def references(self, cur: Cursor) -> tuple[QName, list[str]]:
        ref = self.qname(cur.qualified())  # type: ignore[arg-type]
        cols: list[str] = []
        if cur.is_type(TokenType.L_PAREN):
            cols = self.column_list(cur)
        while not cur.at_end():
            if cur.accept("MATCH"):
                cur.next()
            elif cur.accept("ON"):
                cur.next()  # DELETE | UPDATE
                if cur.accept("SET"):
                    cur.next()
                    if cur.is_type(TokenType.L_PAREN):
                        cur.skip_group()
                elif cur.accept("NO", "ACTION"):
                    pass
                else:
                    cur.next()
            elif cur.accept("NOT", "DEFERRABLE") or cur.accept("DEFERRABLE"):
                pass
            elif cur.accept("INITIALLY"):
                cur.next()
            elif cur.accept("NOT", "VALID"):
                pass
            else:
                break
        return ref, cols

    def column_list(self, cur: Cursor) -> list[str]:
        a, b = cur.skip_group()
        out = []
        for ea, eb in split_top(cur, a, b):
            c = sub(cur, ea, eb)
            out.append(name_of(c.word("a column name")))
        return out

    def table_constraint(self, t: Table, cur: Cursor) -> None:
        line = cur.line()
        cname = None
        if cur.accept("CONSTRAINT"):
            cname = name_of(cur.word())
        if cur.accept("PRIMARY", "KEY"):
            t.primary_key = self.key_columns(t, cur)
            t.pk_name, t.pk_line = cname, line
            for c in t.primary_key:
                if c in t.columns:
                    t.columns[c].not_null = True
        elif cur.accept("UNIQUE"):
            cur.accept("NULLS", "NOT", "DISTINCT") or cur.accept("NULLS", "DISTINCT")
            t.uniques.append(UniqueKey(self.key_columns(t, cur), cname, line))
        elif cur.accept("FOREIGN", "KEY"):
            cols = self.column_list(cur)
            cur.expect("REFERENCES")
            ref, ref_cols = self.references(cur)
            t.foreign_keys.append(ForeignKey(cols, ref, ref_cols, cname, line))
        elif cur.accept("CHECK"):
            a, b = cur.skip_group()
            note_check(t, cur.slice_text(a, b))  # a length bound seeds `min_length`
        elif cur.accept("EXCLUDE") or cur.accept("LIKE"):
            pass  # exclusion constraints do not shape the model
        else:
            tok = cur.peek()
            raise DDLSyntaxError(f"unexpected {tok.text if tok else 'end'!r} in constraint", line)

    def key_columns(self, t: Table, cur: Cursor) -> list[str]:
        """`(a, b)`, or `USING INDEX i` (a unique index made first, often CONCURRENTLY, that
        becomes the constraint: its columns, and it is an index no more)."""
        if not cur.accept("USING", "INDEX"):
            return self.column_list(cur)
        name = name_of(cur.word("an index name"))
        ix = next((x for x in t.indexes if x.name == name), None)
        if ix is None or any(c is None for c in ix.columns):
            raise DDLSyntaxError(
                f"USING INDEX {name}: no unique index of that name on {t.name}", cur.line()
            )
        t.indexes = [x for x in t.indexes if x is not ix]
        return [c for c in ix.columns if c is not None]

    def note_nextval(self, t: Table, col: Column) -> None:
        m = _NEXTVAL.search(col.default or "")
        if m:
            col.serial = True
            seq = _qname_text(m.group(1), self.default_schema)
            self.catalog.sequences.setdefault(seq, t.qname)
            self.catalog.sequence_owner_column.setdefault(seq, col.name)

    # ------------------------------------------------------------------ ALTER TABLE
    def alter_table(self, cur: Cursor, line: int) -> None:
        if_exists = cur.accept("IF", "EXISTS")
        cur.accept("ONLY")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        cur.accept_type(TokenType.STAR)
        if if_exists and q not in self.catalog.tables:
            # `pg_dump --clean` opens with `ALTER TABLE IF EXISTS … DROP …` for tables it
            # creates further down: PostgreSQL runs them as no-ops, and so do we
            return self.skip(_kind(cur, 0), line, "IF EXISTS on a table not created (yet): a no-op")
        if cur.kw("OWNER", "TO") or cur.kw("ENABLE") or cur.kw("DISABLE") or cur.kw("REPLICA"):
            return self.skip(_kind(cur, 0), line)
        # `ALTER TABLE seq …`, views, objects outside the dump: nothing to merge.
        if q not in self.catalog.tables and not (
            cur.kw("ADD") or cur.kw("ALTER") or cur.kw("ATTACH")
        ):
            return self.skip(_kind(cur, 0), line)
        if q in self.unreadable_creates:
            # its CREATE TABLE could not be read (that warning says so): nothing to add to
            return self.skip(_kind(cur, 0), line, "its CREATE TABLE could not be read")
        t = self.table(q, line)
        used = False
        for a, b in split_top(cur, cur.i, len(cur.toks)):
            action = sub(cur, a, b)
            try:  # one action PostgreSQL runs that we cannot read never loses the others
                used |= self.alter_action(t, action)
            except DDLSyntaxError as e:
                self.problem(_kind(action, 0), e.line, str(e))
                used = True
        if not used:
            self.skip(_kind(cur, 0), line)

    def alter_action(self, t: Table, cur: Cursor) -> bool:
        line = cur.line()
        if cur.accept("ALTER", "CONSTRAINT") or cur.accept("VALIDATE", "CONSTRAINT"):
            return False  # deferrability, validation: no fact of the model changes
        if cur.accept("DROP", "CONSTRAINT"):
            cur.accept("IF", "EXISTS")
            return t.drop_constraint(name_of(cur.word("a constraint name")))
        if cur.accept("SET", "SCHEMA"):
            self.move_table(t, (name_of(cur.word("a schema name")), t.name))
            return True
        if cur.accept("ADD"):
            if cur.kw_any(_TABLE_CONSTRAINT_WORDS):
                self.table_constraint(t, cur)
                return True
            cur.accept("COLUMN")
            cur.accept("IF", "NOT", "EXISTS")
            self.column_def(t, cur)
            return True
        if cur.accept("ALTER"):
            cur.accept("COLUMN")
            col_name = name_of(cur.word("a column name"))
            col = t.columns.get(col_name)
            if col is None:
                raise DDLSyntaxError(f"ALTER COLUMN {col_name}: no such column in {t.name}", line)
            if cur.accept("SET", "DEFAULT"):
                a, b = cur.until(())
                col.default = cur.slice_text(a, b)
                self.note_nextval(t, col)
            elif cur.accept("DROP", "DEFAULT"):
                col.default = None
            elif cur.accept("SET", "NOT", "NULL"):
                col.not_null = True
            elif cur.accept("DROP", "NOT", "NULL"):
                col.not_null = False
            elif cur.accept("ADD", "GENERATED"):
                self.generated(
                    col, cur
                )  # pg_dump: ADD GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME …)
            elif cur.accept("DROP", "IDENTITY"):
                col.identity = None
            elif cur.accept("DROP", "EXPRESSION"):
                col.generated = col.generated_kind = None  # a plain column from now on
            elif cur.accept("SET", "DATA", "TYPE") or cur.accept("TYPE"):
                a, b = cur.until(("USING", "COLLATE"))
                col.type = cur.slice_text(a, b)
                col.collation = collation_ref(cur.qualified()) if cur.accept("COLLATE") else None
            else:
                return False
            return True
        if cur.accept("ATTACH", "PARTITION"):
            child_q = self.qname(cur.qualified())  # type: ignore[arg-type]
            self.attach(self.table(child_q, line), t.qname)
            return True
        if cur.accept("DROP", "COLUMN") or cur.accept("DROP"):
            cur.accept("IF", "EXISTS")
            self.catalog.drop_column(t.qname, name_of(cur.word("a column name")))
            return True
        if cur.accept("RENAME", "CONSTRAINT"):
            old = name_of(cur.word())
            cur.expect("TO")
            new = name_of(cur.word())
            if t.pk_name == old:
                t.pk_name = new
            for u in t.uniques:
                u.name = new if u.name == old else u.name
            for fk in t.foreign_keys:
                fk.name = new if fk.name == old else fk.name
            return True
        if cur.accept("RENAME", "TO"):
            self.rename_table(t, cur.word())
            return True
        if cur.accept("RENAME", "COLUMN") or (cur.kw("RENAME") and not cur.kw("RENAME", "TO")):
            cur.accept("RENAME")
            old = name_of(cur.word())
            cur.expect("TO")
            new = name_of(cur.word())
            self.catalog.rename_column(t.qname, old, new)
            return True
        return False

    def rename_table(self, t: Table, tok: Token) -> None:
        """`ALTER TABLE t RENAME TO u` (hand-written migration scripts): the facts move to the
        new name, and foreign keys, partitions and sequences that named the old one follow."""
        if (t.schema, name_of(tok)) == t.qname:
            return
        t.spelling = (
            tok.text
            if tok.token_type is not TokenType.IDENTIFIER and tok.text != tok.text.lower()
            else None
        )
        self.move_table(t, (t.schema, name_of(tok)))

    def move_table(self, t: Table, new: QName) -> None:
        """The table's facts under a new (schema, name): `RENAME TO`, `SET SCHEMA`."""
        old = t.qname
        if new == old:
            return
        t.name_constraints()  # its keys keep the names they were given
        del self.catalog.tables[old]
        t.schema, t.name = new
        self.catalog.tables[new] = t
        if old in self.created:
            self.created.add(new)
        for other in self.catalog.tables.values():
            for fk in other.foreign_keys:
                if fk.ref == old:
                    fk.ref = new
            if other.partition_of == old:
                other.partition_of = new
            other.partitions = [new if q == old else q for q in other.partitions]
        for seq, owner in self.catalog.sequences.items():
            if owner == old:
                self.catalog.sequences[seq] = new

    # ------------------------------------------------------------------ DROP, ALTER INDEX
    def drop_tables(self, cur: Cursor, line: int) -> None:
        """`DROP TABLE [IF EXISTS] a, b [CASCADE]` (migration histories drop what they
        replaced): the tables are gone from here on; a `pg_dump --clean` DROP ahead of its
        CREATE is a no-op, as in PostgreSQL."""
        cur.accept("IF", "EXISTS")
        dropped = False
        for a, b in split_top(cur, cur.i, len(cur.toks)):
            part = sub(cur, a, b)
            q = self.qname(part.qualified())  # type: ignore[arg-type]
            for gone in self.catalog.drop_table(q):
                dropped = True
                self.created.discard(gone)
                self.unreadable_creates.discard(gone)
        if not dropped:
            self.skip("DROP TABLE", line, "no table of that name (yet): a no-op")

    def find_index(self, parts: list[Token]) -> tuple[Table, Index | None, str] | None:
        """The table holding index `[schema.]name` (an index, or a key constraint's index:
        PostgreSQL names a constraint's index after the constraint)."""
        names = [name_of(p) for p in parts]
        schemas = [names[-2]] if len(names) > 1 else [self.default_schema, None]
        for schema in schemas:
            for t in self.catalog.tables.values():
                if schema is not None and t.schema != schema:
                    continue
                for ix in t.indexes:
                    if ix.name == names[-1]:
                        return t, ix, names[-1]
                if names[-1] in t.constraint_names():
                    return t, None, names[-1]
        return None

    def drop_indexes(self, cur: Cursor, line: int) -> None:
        cur.accept("CONCURRENTLY")
        cur.accept("IF", "EXISTS")
        used = False
        for a, b in split_top(cur, cur.i, len(cur.toks)):
            found = self.find_index(sub(cur, a, b).qualified())
            if found is not None and found[1] is not None:
                t, ix, _ = found
                t.indexes = [x for x in t.indexes if x is not ix]
                used = True
        if not used:
            self.skip("DROP INDEX", line, "no index of that name on a table of this file")

    def alter_index(self, cur: Cursor, line: int) -> None:
        """`ALTER INDEX [IF EXISTS] i RENAME TO j` (a constraint's index renames the
        constraint too), so a later `DROP INDEX j` / `DROP CONSTRAINT j` finds it."""
        cur.accept("IF", "EXISTS")
        found = self.find_index(cur.qualified())
        if found is None or not cur.accept("RENAME", "TO"):
            return self.skip("ALTER INDEX", line)
        t, ix, old = found
        new = name_of(cur.word("an index name"))
        if ix is not None:
            ix.name = new
            return
        kind, what = t.constraint_names()[old]
        if kind == "pk":
            t.pk_name = new
        elif kind == "unique":
            what.name = new  # type: ignore[attr-defined]

    def alter_type(self, cur: Cursor, line: int) -> None:
        """`ALTER TYPE e ADD VALUE [IF NOT EXISTS] 'v' [BEFORE | AFTER 'w']`, `RENAME VALUE
        'a' TO 'b'`, `RENAME TO n`, `SET SCHEMA s`: an enum's values and a type's name as the
        script leaves them (Prisma and Rails migrations grow enums this way)."""
        cur.expect("TYPE")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        registry = self.catalog.type_registry(q)
        if registry is None:
            return self.skip("ALTER TYPE", line, "not a type of this file")
        enum = self.catalog.enums.get(q)
        if enum is not None and cur.accept("ADD", "VALUE"):
            cur.accept("IF", "NOT", "EXISTS")
            value = self.string(cur)
            if value in enum.values:
                return
            at = len(enum.values)
            if cur.accept("BEFORE") or cur.accept("AFTER"):
                after = cur.toks[cur.i - 1].text.upper() == "AFTER"
                other = self.string(cur)
                if other in enum.values:
                    at = enum.values.index(other) + (1 if after else 0)
            enum.values.insert(at, value)
            return
        if enum is not None and cur.accept("RENAME", "VALUE"):
            old = self.string(cur)
            cur.expect("TO")
            new = self.string(cur)
            enum.values = [new if v == old else v for v in enum.values]
            return
        if cur.accept("RENAME", "TO"):
            return self.rename_type(q, (q[0], name_of(cur.word("a type name"))))
        if cur.accept("SET", "SCHEMA"):
            return self.rename_type(q, (name_of(cur.word("a schema name")), q[1]))
        self.skip("ALTER TYPE", line)

    def string(self, cur: Cursor) -> str:
        tok = cur.next()
        if tok.token_type not in STRING_TYPES:
            raise DDLSyntaxError(f"expected a quoted value, found {tok.text!r}", cur.line(tok))
        return tok.text

    def users_of_type(self, q: QName) -> list[tuple[Table | Domain | CompositeType, str]]:
        """Columns (table, column), domains (domain, "") and composite attributes (type,
        attribute) whose type is q."""
        out: list[tuple[Table | Domain | CompositeType, str]] = []

        def names(text: str, schema: str) -> bool:
            pt = canonical(text, schema)
            if not pt.user:
                return False
            s_, _, n_ = pt.name.partition(".")
            return self.catalog.lookup_type((s_, n_), schema) == q

        for t in self.catalog.tables.values():
            out += [(t, c.name) for c in t.columns.values() if names(c.type, t.schema)]
        out += [(d, "") for d in self.catalog.domains.values() if names(d.base_type, d.schema)]
        for ct in self.catalog.composites.values():
            out += [(ct, a) for a, text in ct.attributes if names(text, ct.schema)]
        return out

    def rename_type(self, old: QName, new: QName) -> None:
        """Move a type to a new name; every column, domain and attribute of that type follows
        (their type text now names the new type, so `_new` enum swaps resolve)."""
        registry = self.catalog.type_registry(old)
        if registry is None or old == new:
            return
        users = self.users_of_type(old)
        item = registry.pop(old)
        item.schema, item.name = new
        registry[new] = item

        def retype(text: str, schema: str) -> str:
            pt = canonical(text, schema)
            quoted = ".".join('"' + p.replace('"', '""') + '"' for p in new)
            return quoted + (f"({','.join(pt.args)})" if pt.args else "") + "[]" * pt.array

        for owner, name in users:
            if isinstance(owner, Table):
                owner.columns[name].type = retype(owner.columns[name].type, owner.schema)
            elif isinstance(owner, Domain):
                owner.base_type = retype(owner.base_type, owner.schema)
            else:
                owner.attributes = [
                    (a, retype(text, owner.schema) if a == name else text)
                    for a, text in owner.attributes
                ]

    def drop_types(self, cur: Cursor, line: int) -> None:
        """`DROP TYPE | DOMAIN [IF EXISTS] a, b [CASCADE]`: a type still in use stays unless
        CASCADE, which drops the columns of that type, as PostgreSQL does."""
        cur.accept("IF", "EXISTS")
        cascade = any(tok.text.upper() == "CASCADE" for tok in cur.toks[cur.i :])
        used = False
        for a, b in split_top(cur, cur.i, len(cur.toks)):
            part = sub(cur, a, b)
            q = self.qname(part.qualified())  # type: ignore[arg-type]
            registry = self.catalog.type_registry(q)
            if registry is None:
                continue
            users = self.users_of_type(q)
            if users and not cascade:
                continue  # PostgreSQL refuses: the type stays
            for owner, name in users:
                if isinstance(owner, Table):
                    self.catalog.drop_column(owner.qname, name)
            del registry[q]
            used = True
        if not used:
            self.skip(_kind(cur), line)

    # ------------------------------------------------------------------ sequences
    def create_sequence(self, cur: Cursor, line: int) -> None:
        cur.accept("IF", "NOT", "EXISTS")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        self.catalog.sequences.setdefault(q, None)
        self.owned_by(q, cur)

    def alter_sequence(self, cur: Cursor, line: int) -> None:
        cur.accept("IF", "EXISTS")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        if not self.owned_by(q, cur):
            self.skip("ALTER SEQUENCE", line)

    def owned_by(self, seq: QName, cur: Cursor) -> bool:
        while not cur.at_end():
            if cur.accept("OWNED", "BY"):
                if cur.accept("NONE"):
                    return True
                parts = cur.qualified()
                names = [name_of(p) for p in parts]
                col = names[-1]
                tq = (names[-3], names[-2]) if len(names) >= 3 else (self.default_schema, names[0])
                self.catalog.sequences[seq] = tq
                self.catalog.sequence_owner_column[seq] = col
                t = self.catalog.tables.get(tq)
                if t is not None and col in t.columns:
                    t.columns[col].serial = True
                return True
            cur.next()
        return False

    # ------------------------------------------------------------------ types
    def create_type(self, cur: Cursor, line: int) -> None:
        cur.expect("TYPE")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        if cur.accept("AS", "ENUM"):
            a, b = cur.skip_group()
            values = [tok.text for tok in cur.toks[a:b] if tok.token_type in STRING_TYPES]
            self.catalog.enums[q] = EnumType(q[0], q[1], values, line)
            return
        if cur.accept("AS") and cur.is_type(TokenType.L_PAREN):
            a, b = cur.skip_group()
            attrs = []
            for ea, eb in split_top(cur, a, b):
                c = sub(cur, ea, eb)
                name = name_of(c.word())
                s, e = c.until(("COLLATE",))
                attrs.append((name, c.slice_text(s, e)))
            self.catalog.composites[q] = CompositeType(q[0], q[1], attrs, line)
            return
        self.skip("CREATE TYPE", line, "range/base types are not table data")

    def create_domain(self, cur: Cursor, line: int) -> None:
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        cur.accept("AS")
        a, b = cur.until(("CONSTRAINT", "NOT", "NULL", "DEFAULT", "CHECK", "COLLATE"))
        d = Domain(q[0], q[1], cur.slice_text(a, b), line=line)
        while not cur.at_end():
            if cur.accept("NOT", "NULL"):
                d.not_null = True
            elif cur.accept("COLLATE"):
                d.collation = collation_ref(cur.qualified())
            elif cur.is_type(TokenType.L_PAREN):
                cur.skip_group()
            else:
                cur.next()
        self.catalog.domains[q] = d

    # ------------------------------------------------------------------ collations
    def create_collation(self, cur: Cursor, line: int) -> None:
        """`CREATE COLLATION n (provider = icu, locale = 'de-u-co-phonebk', deterministic =
        false)` or `CREATE COLLATION n FROM "C"`: what a column's COLLATE n means."""
        cur.accept("IF", "NOT", "EXISTS")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        c = Collation(q[0], q[1], line=line)
        if cur.accept("FROM"):
            c.source = collation_ref(cur.qualified())
        else:
            options = _options(cur, *cur.skip_group())
            c.provider = (options.get("provider") or "libc").lower()
            c.locale = (
                options.get("lc_collate") or options.get("locale")
                if c.provider == "libc"
                else options.get("locale") or options.get("lc_collate")
            )
            c.deterministic = (options.get("deterministic") or "true").lower() not in (
                "false",
                "off",
                "no",
                "0",
            )
        self.catalog.collations[q] = c

    def create_database(self, cur: Cursor, line: int) -> None:
        """`CREATE DATABASE d WITH … LOCALE_PROVIDER = icu LOCALE = 'en_US.UTF-8' ICU_LOCALE =
        'en-US'` (`pg_dump --create`): the database's default collation."""
        cur.word()
        cur.accept("WITH")
        options = _options(cur, cur.i, len(cur.toks))
        name = collation.database_collation(
            options.get("locale_provider"),
            options.get("lc_collate"),
            options.get("icu_locale") or options.get("builtin_locale") or options.get("locale"),
        )
        if name:
            self.catalog.default_collation = name
            self.catalog.default_collation_origin = f"CREATE DATABASE (line {line})"
        else:
            self.skip("CREATE DATABASE", line)

    # ------------------------------------------------------------------ CREATE SCHEMA
    def create_schema(self, cur: Cursor, line: int) -> None:
        """`CREATE SCHEMA s [AUTHORIZATION r] CREATE TABLE … CREATE VIEW …`: the elements are
        statements of their own with `s` as the default schema."""
        cur.expect("SCHEMA")
        cur.accept("IF", "NOT", "EXISTS")
        schema: str | None = None
        if not cur.kw("AUTHORIZATION"):
            schema = name_of(cur.word())
        if cur.accept("AUTHORIZATION"):
            role = name_of(cur.word())
            schema = schema or role
        starts = [
            j
            for j in range(cur.i, len(cur.toks))
            if cur.toks[j].token_type is not TokenType.IDENTIFIER
            and cur.toks[j].text.upper() in ("CREATE", "GRANT")
            and _depth_at(cur, j) == 0
        ]
        if not starts:
            return self.skip("CREATE SCHEMA", line)
        saved = self.default_schema
        self.default_schema = schema or saved
        try:
            for k, s in enumerate(starts):
                e = starts[k + 1] if k + 1 < len(starts) else len(cur.toks)
                element = sub(cur, s, e)
                eline = element.line()
                try:
                    self.dispatch(element)
                except DDLSyntaxError as err:
                    self.problem(_kind(element), err.line, str(err))
                del eline
        finally:
            self.default_schema = saved

    # ------------------------------------------------------------------ indexes
    def create_index(self, cur: Cursor, line: int) -> None:
        unique = cur.accept("UNIQUE")
        cur.expect("INDEX")
        cur.accept("CONCURRENTLY")
        cur.accept("IF", "NOT", "EXISTS")
        name = None
        if not cur.kw("ON"):
            name = name_of(cur.qualified()[-1])
        cur.expect("ON")
        cur.accept("ONLY")
        q = self.qname(cur.qualified())  # type: ignore[arg-type]
        method = "btree"
        if cur.accept("USING"):
            method = name_of(cur.word()).lower()
        a, b = cur.skip_group()
        columns: list[str | None] = []
        desc: list[bool] = []
        for ea, eb in split_top(cur, a, b):
            c = sub(cur, ea, eb)
            tok = c.peek()
            if (
                tok is not None
                and is_word(tok)
                and (len(c.toks) == 1 or not c.is_type(TokenType.L_PAREN, 1))
            ):
                first = c.next()
                rest = [x.text.upper() for x in c.toks[c.i :]]
                if c.is_type(TokenType.DOT) or not all(is_word(x) for x in c.toks[c.i :]):
                    # a qualified function call or an operator (`data->'k'`): an expression
                    columns.append(None)
                else:
                    columns.append(name_of(first))
                desc.append("DESC" in rest)
            else:
                columns.append(None)
                desc.append(False)
        where = None
        while not cur.at_end():
            if cur.accept("WHERE"):
                where = cur.slice_text(cur.i, len(cur.toks))
                break
            if cur.is_type(TokenType.L_PAREN):
                cur.skip_group()
            else:
                cur.next()
        t = self.catalog.tables.get(q)
        if t is None:
            return self.skip(
                "CREATE INDEX", line, f"index on {q[0]}.{q[1]}, not a table in this file"
            )
        t.indexes.append(Index(name or f"{q[1]}_idx", columns, unique, method, where, desc, line))

    # ------------------------------------------------------------------ comments, SET
    def comment(self, cur: Cursor, line: int) -> None:
        if cur.accept("TABLE"):
            q = self.qname(cur.qualified())  # type: ignore[arg-type]
            cur.expect("IS")
            text = self.comment_text(cur)
            if q in self.catalog.tables:
                self.catalog.tables[q].comment = text
                return
        elif cur.accept("COLUMN"):
            names = [name_of(p) for p in cur.qualified()]
            cur.expect("IS")
            text = self.comment_text(cur)
            if len(names) >= 2:
                tq = (names[-3], names[-2]) if len(names) >= 3 else (self.default_schema, names[0])
                t = self.catalog.tables.get(tq)
                if t is not None and names[-1] in t.columns:
                    t.columns[names[-1]].comment = text
                    return
        self.skip("COMMENT", line)

    def comment_text(self, cur: Cursor) -> str | None:
        if cur.accept("NULL"):
            return None
        parts = []
        while not cur.at_end() and cur.peek().token_type in STRING_TYPES:  # type: ignore[union-attr]
            parts.append(cur.next().text)
        return "".join(parts) or None

    def set_stmt(self, cur: Cursor, line: int) -> None:
        cur.accept("SESSION") or cur.accept("LOCAL")
        if cur.accept("SEARCH_PATH"):
            cur.accept("TO") or cur.accept_type(TokenType.EQ)
            tok = cur.peek()
            if tok is not None and (is_word(tok) or tok.token_type is TokenType.STRING):
                first = tok.text if tok.token_type is TokenType.STRING else name_of(tok)
                if first and first.upper() != "DEFAULT" and not first.startswith("$"):
                    self.default_schema = first
        self.skip("SET", line)


def collation_ref(parts: list[Token]) -> QName:
    """A COLLATE name as (schema, name); schema "" when unqualified (`COLLATE "C"`)."""
    names = [name_of(p) for p in parts]
    return ("", names[-1]) if len(names) == 1 else (names[-2], names[-1])


def _options(cur: Cursor, a: int, b: int) -> dict[str, str]:
    """`key [=] value` options (lower-case keys) between token indexes a and b, separated by
    commas (CREATE COLLATION) or by nothing (CREATE DATABASE)."""
    out: dict[str, str] = {}
    toks = cur.toks[a:b]
    k = 0
    while k < len(toks):
        tok = toks[k]
        if not is_word(tok):
            k += 1
            continue
        key = tok.text.lower()
        k += 1
        if k < len(toks) and toks[k].token_type is TokenType.EQ:
            k += 1
        if k < len(toks) and toks[k].token_type is not TokenType.COMMA:
            out[key] = toks[k].text
            k += 1
    return out


def _depth_at(cur: Cursor, j: int) -> int:
    depth = 0
    for k in range(cur.i, j):
        tt = cur.toks[k].token_type
        if tt in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif tt in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
    return depth


def _kind(cur: Cursor, start: int | None = None) -> str:
    """A statement's kind for the summary: `CREATE FUNCTION`, `ALTER TABLE OWNER`, `GRANT`."""
    toks = cur.toks
    if not toks:
        return "empty"
    words = []
    if start is None:
        for tok in toks[:4]:
            if not is_word(tok) or tok.token_type is TokenType.IDENTIFIER:
                break
            words.append(tok.text.upper())
        skip = {
            "OR",
            "REPLACE",
            "UNIQUE",
            "UNLOGGED",
            "TEMP",
            "TEMPORARY",
            "MATERIALIZED",
            "IF",
            "ONLY",
        }
        head = [w for w in words if w not in skip]
        if head and head[0] in ("CREATE", "ALTER", "DROP", "COMMENT"):
            return " ".join(head[:2])
        return head[0] if head else toks[0].text[:20]
    action = [t.text.upper() for t in toks[cur.i : cur.i + 2] if is_word(t)]
    return f"ALTER TABLE {' '.join(action[:1])}".strip()


def _qname_text(text: str, default_schema: str) -> QName:
    parts = [p.strip('"') if p.startswith('"') else p.lower() for p in text.split(".")]
    if len(parts) == 1:
        return (default_schema, parts[0])
    return (parts[-2], parts[-1])


def read_ddl(text: str, source: str = "<ddl>") -> DDLResult:
    """Read DDL text into a catalog. Never raises on bad input: problems become diagnostics."""
    reader = _Reader(source)
    statements = split_statements(text)
    for st in statements:
        reader.statement(st)
    last = statements[-1] if statements else None
    if last is not None and last.kind == "sql" and not last.terminated:
        reader.diags.warning(
            "SEED003",
            "the file ends inside this statement (no closing `;`, or an open quote or comment): "
            "the file may be cut short",
            Span(source, last.line, last.col),
            hint="check that the file is complete (pg_dump ends every statement with `;`); "
            "tables after this point are missing from the model",
        )
    _finish(reader)
    return DDLResult(reader.catalog, reader.diags)


def _finish(reader: _Reader) -> None:
    """Facts that need the whole file: `OWNED BY` seen before its table, partition columns."""
    cat = reader.catalog
    for seq, owner in cat.sequences.items():
        col = cat.sequence_owner_column.get(seq)
        if owner is not None and col is not None:
            t = cat.tables.get(owner)
            if t is not None and col in t.columns:
                t.columns[col].serial = True
    # Tables only ever ALTERed (never created) are not entities: drop them, say so.
    for q, t in list(cat.tables.items()):
        created = q in reader.created and q not in reader.unreadable_creates
        if not t.columns and t.partition_of is None and not created:
            del cat.tables[q]
            if q in reader.unreadable_creates:
                continue  # its CREATE TABLE could not be read: that warning says it
            reader.diags.info(
                "SEED002",
                f"{q[0]}.{q[1]} is altered but never created in this file; ignored",
                Span(reader.source, t.line, 1),
            )


def read_ddl_file(path: Path) -> DDLResult:
    """Read a DDL file. Undecodable bytes (a binary file) give an error diagnostic."""
    try:
        data = inputs.read_bytes(path, "ddl")
    except inputs.InputFileError as e:
        res = DDLResult(Catalog(source=str(path)))
        res.diagnostics.error("SEED010", str(e), Span(str(path)), hint=e.hint)
        return res
    except OSError as e:
        res = DDLResult(Catalog(source=str(path)))
        res.diagnostics.error("SEED010", f"cannot read {path}: {e.strerror}", Span(str(path)))
        return res
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        try:
            text = data.decode("latin-1") if b"\x00" not in data else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            res = DDLResult(Catalog(source=str(path)))
            res.diagnostics.error(
                "SEED011",
                f"{path} is not a text file (byte {e.start} is not UTF-8)",
                Span(str(path)),
                hint="pass a SQL file such as `pg_dump --schema-only` output",
            )
            return res
    if text.startswith("\ufeff"):
        text = text[1:]
    return read_ddl(text, str(path))
