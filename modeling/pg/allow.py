"""Which statements of a model's source DDL may run on the scratch PostgreSQL (an allow-list).

The source DDL is input the tool did not write, and the scratch database is reached as a
superuser: a `DO` block, `COPY ... TO PROGRAM`, a function in an untrusted language or a server
file function would run code or read files on the machine. So only the statements that build the
schema are run: CREATE/ALTER/DROP of schemas, tables, types, domains, sequences, indexes (and
their constraints), COMMENT ON, a short list of extensions, harmless session settings (and
pg_dump's `SELECT pg_catalog.set_config('search_path', '', false)`), functions in `sql` or
`plpgsql` whose bodies hold no dynamic SQL, COPY or server access, and triggers. Anything else is
skipped, with the reason, never executed. Any statement that names a server-access function
(`pg_read_file`, `lo_import`, `dblink`, ...) anywhere in its text is skipped too (a column
DEFAULT or generated column is evaluated when the sample rows are loaded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXTENSIONS = frozenset(
    {"citext", "uuid-ossp", "pgcrypto", "hstore", "btree_gist", "btree_gin", "pg_trgm", "ltree"}
)
_SETTINGS = frozenset(
    {
        "search_path",
        "client_encoding",
        "standard_conforming_strings",
        "check_function_bodies",
        "xmloption",
        "client_min_messages",
        "row_security",
        "default_tablespace",
        "default_table_access_method",
        "default_with_oids",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "transaction_timeout",
        "timezone",
        "datestyle",
        "intervalstyle",
        "escape_string_warning",
        "bytea_output",
        "constraint_exclusion",
    }
)
_CREATE_TABLE = re.compile(
    r"^CREATE\s+((GLOBAL|LOCAL)\s+)?((TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\b", re.IGNORECASE
)
_CTAS = re.compile(r"\bAS\s*\(?\s*(SELECT|WITH|VALUES|TABLE|EXECUTE)\b", re.IGNORECASE)
_BUILD = re.compile(
    r"^(CREATE\s+(UNIQUE\s+)?INDEX|CREATE\s+(SCHEMA|TYPE|DOMAIN|SEQUENCE)"
    r"|ALTER\s+(TABLE|TYPE|DOMAIN|SEQUENCE|INDEX|SCHEMA)"
    r"|DROP\s+(SCHEMA|TYPE|DOMAIN|SEQUENCE|INDEX|TABLE|TRIGGER|FUNCTION)"
    r"|COMMENT\s+ON|CREATE\s+(CONSTRAINT\s+)?TRIGGER)\b",
    re.IGNORECASE,
)
_ALTER_DANGEROUS = re.compile(r"\b(OWNER\s+TO|SET\s+ROLE|SESSION\s+AUTHORIZATION)\b", re.IGNORECASE)
_EXTENSION = re.compile(
    r"^CREATE\s+EXTENSION\s+(IF\s+NOT\s+EXISTS\s+)?(\"([^\"]+)\"|([A-Za-z0-9_-]+))", re.IGNORECASE
)
_SET = re.compile(r"^SET\s+(SESSION\s+|LOCAL\s+)?([A-Za-z_.]+)\s*(=|\bTO\b)", re.IGNORECASE)
_SET_TIME_ZONE = re.compile(r"^SET\s+(SESSION\s+|LOCAL\s+)?TIME\s+ZONE\b", re.IGNORECASE)
_SET_CONFIG = re.compile(
    r"^SELECT\s+(pg_catalog\.)?set_config\s*\(\s*'([A-Za-z_.]+)'\s*,\s*'[^']*'\s*,\s*(true|false)\s*\)$",
    re.IGNORECASE,
)
_FUNCTION = re.compile(r"^CREATE\s+(OR\s+REPLACE\s+)?(FUNCTION|PROCEDURE)\b", re.IGNORECASE)
_LANGUAGE = re.compile(r"\bLANGUAGE\s+'?\"?([A-Za-z0-9_]+)", re.IGNORECASE)
_TRUSTED_LANGUAGES = frozenset({"sql", "plpgsql"})
# words that have no place in a schema-building function body: dynamic SQL, utility commands,
# role changes, server access
_BODY_DENY = re.compile(
    r"\b(EXECUTE|COPY|CREATE|ALTER|DROP|GRANT|REVOKE|SET\s+ROLE|RESET|SESSION\s+AUTHORIZATION"
    r"|set_config|dblink\w*|LOAD|IMPORT)\b",
    re.IGNORECASE,
)
# server-side functions that read or write files, run programs or reach other servers
_SERVER_ACCESS = re.compile(
    r"\b(pg_read_file|pg_read_binary_file|pg_ls_\w+|pg_stat_file|lo_import|lo_export|lo_from_bytea"
    r"|dblink\w*|pg_file_write|pg_file_rename|pg_file_unlink|pg_logdir_ls|pg_execute_server_program"
    r"|pg_reload_conf|pg_terminate_backend|pg_cancel_backend|pg_rotate_logfile|pg_promote"
    r"|pg_switch_wal|pg_create_restore_point|pg_backup_start|pg_start_backup)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Verdict:
    """Whether a statement may run; when not, why (one short phrase)."""

    run: bool
    reason: str = ""


def _strip_comments(sql: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", "", sql, flags=re.DOTALL).strip()


def _head(sql: str) -> str:
    words = sql.split()
    return " ".join(words[:3]).upper() if words else ""


def verdict(statement: str) -> Verdict:
    """May `statement` (one SQL statement of a source DDL, no `;`) run on the scratch database?"""
    sql = _strip_comments(statement)
    access = _SERVER_ACCESS.search(sql)
    if access:
        return Verdict(False, f"names a server-access function ({access[1]})")
    if _CREATE_TABLE.match(sql):
        if _CTAS.search(sql):
            return Verdict(False, "CREATE TABLE ... AS runs a query")
        return Verdict(True)
    if _BUILD.match(sql):
        if re.match(r"^ALTER\b", sql, re.IGNORECASE) and _ALTER_DANGEROUS.search(sql):
            return Verdict(False, "changes an owner or role")
        return Verdict(True)
    m = _EXTENSION.match(sql)
    if m:
        name = (m[3] or m[4]).lower()
        if name in EXTENSIONS:
            return Verdict(True)
        return Verdict(False, f"extension {name} is not in the allowed list")
    m = _SET.match(sql)
    if m:
        if m[2].lower() in _SETTINGS:
            return Verdict(True)
        return Verdict(False, f"setting {m[2]} is not a harmless session setting")
    if _SET_TIME_ZONE.match(sql):
        return Verdict(True)
    m = _SET_CONFIG.match(sql)
    if m:
        if m[2].lower() in _SETTINGS:
            return Verdict(True)
        return Verdict(False, f"setting {m[2]} is not a harmless session setting")
    if _FUNCTION.match(sql):
        lang = _LANGUAGE.search(sql)
        language = lang[1].lower() if lang else "sql"
        if language not in _TRUSTED_LANGUAGES:
            return Verdict(False, f"a function in language {language}")
        body = re.sub(r"^.*?\bAS\b", "", sql, count=1, flags=re.IGNORECASE | re.DOTALL)
        hit = _BODY_DENY.search(body)
        if hit:
            return Verdict(False, f"a function body with {hit[1].upper()}")
        if re.search(r"\bSECURITY\s+DEFINER\b", sql, re.IGNORECASE):
            return Verdict(False, "a SECURITY DEFINER function")
        return Verdict(True)
    return Verdict(False, f"{_head(sql) or 'statement'} is not schema-building DDL")
