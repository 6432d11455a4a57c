"""Every diagnostic code the tool can emit: its group (the stage that reports it) and one line of
meaning.

`REGISTRY` is the one list: the docs build the diagnostics reference from it (`groups()`), a test
scans the package source for every emission site (`diags.error("code", ...)`, `Diagnostic(...)`,
the records and helpers that carry a code) and fails when a code is emitted that is not listed
here, or listed here and emitted nowhere. `CODES` is the same list as name -> meaning.

A code is listed once, under the first stage that reports it (`unknown-entity` is a validate
code even when the compiler, given a hand-built IR, reports it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Group(StrEnum):
    """The stage (and the part of it) that reports a code; the value is its reference heading."""

    READ = "Reading the model file (validate)"
    STRUCTURE = "Structure (validate)"
    ENTITIES = "Entities (validate)"
    PATTERNS = "Access patterns (validate)"
    SQL = "sql: patterns (validate)"
    COMPILE = "Key layout (compile)"
    SEED = "Seeding from PostgreSQL (init)"
    WORKBENCH = "Importing a NoSQL Workbench export (import)"


@dataclass(frozen=True)
class Code:
    name: str
    group: Group
    meaning: str


_G = Group
_LIST: tuple[Code, ...] = (
    # reading the file
    Code("file-not-found", _G.READ, "The model file does not exist or cannot be read."),
    Code("input-file", _G.READ, "The model path is not a regular file (a device, a FIFO) or is larger than the size cap (MODELING_MAX_INPUT_MB)."),
    Code("yaml-syntax", _G.READ, "The file is not valid YAML (the position is where the parser gave up)."),
    Code("duplicate-key", _G.READ, "A mapping repeats a key (e.g. two entities or two patterns with one name)."),
    Code("yaml-tag", _G.READ, "A YAML tag or value kind the language does not use (custom tags, timestamps)."),
    # structure (JSON Schema / pydantic pass)
    Code("unknown-key", _G.STRUCTURE, "A key the language does not define (usually a typo; a close match is hinted)."),
    Code("missing-key", _G.STRUCTURE, "A required key is absent."),
    Code("wrong-type", _G.STRUCTURE, "A value has the wrong shape (e.g. a list where a mapping is expected)."),
    Code("invalid-value", _G.STRUCTURE, "A value outside the allowed set (an operator, an order, a billing mode)."),
    Code("invalid-name", _G.STRUCTURE, "A model, entity, attribute, pattern or table name breaks the naming rule."),
    Code("unknown-type", _G.STRUCTURE, "An attribute type that is not one of the language's types."),
    # entities
    Code("unknown-entity", _G.ENTITIES, "`references`, `parent`, `entity` or `entities` names an entity the model lacks."),
    Code("unknown-attribute", _G.ENTITIES, "A key, `where`, `filter`, `order_by`, `ttl` or key-template slot names a missing attribute."),
    Code("optional-key", _G.ENTITIES, "A key attribute is declared `required: false`; keys are never null."),
    Code("unkeyable-type", _G.ENTITIES, "A key or key condition uses a type DynamoDB cannot key on (map, list, set)."),
    Code("entity-name-case", _G.ENTITIES, "Two entity names differ only in case; their generated files would be one file on a case-insensitive disk."),
    Code("parent-cycle", _G.ENTITIES, "Entities are each other's parents (directly or through a chain)."),
    Code("parent-key", _G.ENTITIES, "A child entity lacks an attribute of its parent's key, so it cannot join its collection."),
    Code("reserved-attribute", _G.ENTITIES, "An attribute named like an item attribute the layout writes (PK, SK, GSI<n>PK/SK, _type, _version)."),
    Code("enum-type", _G.ENTITIES, "`enum` on an attribute whose type is not string."),
    Code("number-bound-type", _G.ENTITIES, "`precision`/`scale` on a non-decimal or `min`/`max` on a non-integer attribute, or bounds that contradict each other."),
    Code("length-bound", _G.ENTITIES, "`min_length` on an attribute that is not a string or binary, or above its `max_length`."),
    Code("collation-type", _G.ENTITIES, "`collation` on an attribute whose type is not string (or a list or set of strings)."),
    Code("timezone-type", _G.ENTITIES, "`timezone` on an attribute whose type is not datetime (or a list of datetimes)."),
    Code("pinned-key", _G.ENTITIES, "A pinned `keys:` template is malformed or names an unknown index."),
    Code("too-many-indexes", _G.ENTITIES, "Pinned keys name more than 20 GSIs or 5 LSIs."),
    Code("reference-type", _G.ENTITIES, "A `references` attribute's type differs from the referenced entity's key."),
    Code("invalid-tag", _G.ENTITIES, "A table tag AWS refuses: an empty, too long or `aws:` key, a too long value, a character outside letters, digits, spaces and `_ . : / = + - @`."),
    Code("ttl-attribute", _G.ENTITIES, "`table.ttl` names an attribute that is not a datetime/integer on any entity."),
    Code("version-attribute", _G.ENTITIES, "`version` names an attribute the entity lacks (`source.version`: that no entity has)."),
    Code("version-type", _G.ENTITIES, "A `version` attribute that is not an integer or a datetime (a NULL-free, growing value)."),
    Code("optional-version", _G.ENTITIES, "A `version` attribute declared `required: false`: a NULL version cannot order writes."),
    Code("ddl-outside-model-dir", _G.ENTITIES, "`source.ddl` resolves outside both the model file's directory and the current directory (allowed only with MODELING_ALLOW_DDL_OUTSIDE=1)."),
    Code("missing-ddl", _G.ENTITIES, "`source.ddl` points to a file that does not exist (a warning at validate time)."),
    # access patterns
    Code("pattern-source", _G.PATTERNS, "A pattern has none, or more than one, of `entity`, `entities`, `sql`."),
    Code("missing-where", _G.PATTERNS, "A pattern has no key condition; every Query needs a partition-key equality."),
    Code("two-ranges", _G.PATTERNS, "More than one attribute has a non-equality operator, or one attribute has two lower (or two upper) bounds."),
    Code("unique-range", _G.PATTERNS, "`unique: true` together with a range operator (a range can match many items)."),
    Code("unique-collection", _G.PATTERNS, "`unique: true` on a pattern that reads several entities."),
    Code("unrelated-entities", _G.PATTERNS, "`entities: [...]` lists entities that are not one parent/child family."),
    Code("operator-type", _G.PATTERNS, "An operator that does not apply to the attribute's type (begins_with on a number)."),
    Code("order-mismatch", _G.PATTERNS, "`order_by` names a different attribute than the pattern's range attribute."),
    Code("nulls-without-order", _G.PATTERNS, "`nulls: first|last` on a pattern that orders by no attribute."),
    # sql: patterns
    Code("sql-syntax", _G.SQL, "The SQL does not parse (what was expected, located inside the SQL)."),
    Code("sql-statement", _G.SQL, "The SQL is not exactly one SELECT statement."),
    Code("sql-unknown-table", _G.SQL, "The SQL reads a table that no entity of the model maps."),
    Code("sql-unknown-column", _G.SQL, "The SQL names a column the table (entity) lacks."),
    Code("sql-no-where", _G.SQL, "A SELECT without WHERE would be a full table scan."),
    Code("sql-or", _G.SQL, "OR in WHERE: a key condition is a conjunction; split the pattern in two."),
    Code("sql-not", _G.SQL, "NOT in WHERE cannot be a key condition."),
    Code("sql-not-equal", _G.SQL, "`!=` / `<>` cannot be a key condition."),
    Code("sql-in", _G.SQL, "An IN list the client cannot run as one Query per value (a subquery, no list parameter, two IN lists)."),
    Code("sql-like", _G.SQL, "LIKE other than a prefix (`'abc%'`, `:p || '%'`) cannot be a key condition."),
    Code("sql-is-null", _G.SQL, "An IS [NOT] NULL the client cannot check exactly: on a required attribute, on a set, or IS TRUE/FALSE."),
    Code("sql-function", _G.SQL, "A function or expression on a column cannot be a key condition."),
    Code("sql-join", _G.SQL, "A join other than parent↔child on the parent key."),
    Code("sql-inner-join", _G.SQL, "An INNER join read as an item collection: a parent without children is no row in SQL, one item in the Query."),
    Code("sql-condition", _G.SQL, "A WHERE conjunct of a shape that cannot be a key condition."),
    Code("sql-order", _G.SQL, "ORDER BY on more than one non-equality column, or on an expression."),
    Code("sql-unsupported", _G.SQL, "A SQL construct with no single-Query equivalent (GROUP BY, OFFSET, subquery, ...)."),
    Code("sql-mixed-operands", _G.SQL, "BETWEEN with one literal and one parameter."),
    # compile: the key layout and its checks
    Code("null-order-unsupported", _G.COMPILE, "A pattern asks for NULLs before every value of a string/binary slot that ends the key, where the empty value sorts first."),
    Code("unservable-pattern", _G.COMPILE, "No index and key layout can serve the pattern as one Query (the message says why)."),
    Code("constant-partition", _G.COMPILE, "A pattern with only a range condition puts every item of the entity in one constant partition."),
    Code("too-many-gsis", _G.COMPILE, "The patterns need more GSIs than DynamoDB allows on one table (20)."),
    Code("too-many-lsis", _G.COMPILE, "The model pins more LSIs than DynamoDB allows on one table (5)."),
    Code("lsi-derived", _G.COMPILE, "A local secondary index serves patterns on the table's partition key and saves a GSI."),
    Code("lsi-kept-gsi", _G.COMPILE, "An LSI would save a GSI, but the item collection is too large or cannot be estimated."),
    Code("gsi-on-attributes", _G.COMPILE, "`gsi_keys: attributes`: a GSI is keyed on the items' own attributes (no synthetic key attributes)."),
    Code("gsi-kept-composite", _G.COMPILE, "`gsi_keys: attributes`: a GSI keeps composite keys, because its key or a pattern on it cannot be served exactly on attributes."),
    Code("stable-more-gsis", _G.COMPILE, "Keeping the previous layout's index names and key templates needs more GSIs than a fresh assignment (both counts; `--fresh` ignores the previous layout)."),
    Code("previous-layout-not-kept", _G.COMPILE, "The previous layout's indexes cannot be kept (with them a check fails, named): the layout is assigned afresh and indexes may be renumbered."),
    Code("previous-layout-ignored", _G.COMPILE, "The layout.json in the output directory is another model's: it is not used as the previous layout."),
    Code("lsi-needs-new-table", _G.COMPILE, "An LSI would save a GSI, but the table exists and LSIs are only created with a table."),
    Code("key-too-long", _G.COMPILE, "A key can render longer than DynamoDB's limit (2,048 bytes partition, 1,024 sort)."),
    Code("key-empty", _G.COMPILE, "A key template can render as an empty string; key values are never empty."),
    Code("key-may-be-too-long", _G.COMPILE, "A key with `max_length` strings fits in ASCII but can exceed the key size limit with multi-byte characters."),
    Code("key-length-unknown", _G.COMPILE, "Key slots have no length bound, so a long value could exceed the key size limit at write."),
    Code("lsi-partition-key", _G.COMPILE, "A key pinned on an LSI has another partition key than the table; an LSI shares the table's."),
    Code("key-collision", _G.COMPILE, "Two entities can produce the same key on one index, so their items could overwrite each other."),
    Code("number-too-precise", _G.COMPILE, "A decimal's declared precision exceeds the 38 significant digits a DynamoDB number keeps."),
    Code("key-number-out-of-range", _G.COMPILE, "An integer key slot's declared range exceeds what the key codec encodes; rows beyond it cannot become items."),
    Code("item-may-be-too-large", _G.COMPILE, "Every attribute of an entity is bounded, and at those bounds an item exceeds DynamoDB's 400 KB."),
    Code("capacity-below-rate", _G.COMPILE, "The entities' declared writes per second exceed the provisioned write capacity of the table or a GSI."),
    Code("key-not-identity", _G.COMPILE, "An entity's table key does not hold its whole `key:` (or a slot's end is ambiguous), so two rows could share one item and one write replace another."),
    Code("hot-partition", _G.COMPILE, "A partition key with few values, or a declared rate above one partition's throughput."),
    Code("sharded-partition", _G.COMPILE, "A partition too hot for one DynamoDB partition is written across N shards (the arithmetic in the message); reads query every shard."),
    Code("non-key-filter", _G.COMPILE, "A pattern filters outside the key: the read costs the items the filter drops."),
    Code("unbound-partition", _G.COMPILE, "A pattern does not bind every slot of its index's partition-key template."),
    Code("invalid-key-condition", _G.COMPILE, "A plan's key condition DynamoDB would reject: an empty key value, a value of the wrong type for its key attribute, or begins_with on a number."),
    Code("missing-sort-key", _G.COMPILE, "A pinned key has no sort key where the entity's patterns (or collection) need one."),
    Code("mutable-table-key", _G.COMPILE, "A pinned table key holds an attribute that can change (not identity, parent link or `immutable`): a change is a delete + put."),
    Code("identity-needs-key-attributes", _G.COMPILE, "An entity's table key needs attributes beyond its identity and no pattern finds it by identity: after the cutover get/update/delete need them passed."),
    Code("strategy-choice", _G.COMPILE, "strategy: lowest_cost chose the cheaper of a GSI and relationship copies in the table (both figures; copies are built in place of the GSI)."),
    Code("strategy-not-built", _G.COMPILE, "strategy: lowest_cost found relationship copies cheaper than a GSI but cannot build them for it (the reason is named): the GSI is kept."),
    Code("read-amplification", _G.COMPILE, "A pattern's key condition reads items it then drops (other types in the partition, filters) and no sort-key range excludes them: the estimated items read per item returned."),
    Code("collation-order", _G.COMPILE, "A pattern orders by a string whose source collation is not C/POSIX (or unknown): PostgreSQL's order can differ from DynamoDB's byte order."),
    Code("enum-order", _G.COMPILE, "A pattern orders by (or ranges over) an enum whose values are not listed in byte order: a PostgreSQL ENUM sorts by declaration order, DynamoDB by bytes."),
    # init: seeding a model from PostgreSQL DDL, a live database or a query log
    Code("SEED001", _G.SEED, "A DDL statement could not be read and was skipped; the rest of the file was read."),
    Code("SEED002", _G.SEED, "A table is altered but never created in the file; the ALTER is ignored."),
    Code("SEED003", _G.SEED, "The DDL file ends inside a statement (no closing `;`): it may be cut short."),
    Code("SEED004", _G.SEED, "A CREATE TEMP TABLE was skipped: a temporary table is not an entity."),
    Code("SEED010", _G.SEED, "The DDL file cannot be read."),
    Code("SEED011", _G.SEED, "The DDL file is not UTF-8 text."),
    Code("SEED012", _G.SEED, "The file does not look like SQL: none of its statements could be read."),
    Code("SEED013", _G.SEED, "The DDL file or database has no CREATE TABLE to seed from."),
    Code("SEED014", _G.SEED, "No table matches --schema / --tables."),
    Code("SEED015", _G.SEED, "The database at --from-db cannot be read (connection or permission error)."),
    Code("SEED020", _G.SEED, "A table has no primary key or unique constraint; its key was guessed."),
    Code("SEED021", _G.SEED, "A column's PostgreSQL type has no known attribute type; set it by hand."),
    Code("SEED022", _G.SEED, "A key column's type cannot be a DynamoDB key."),
    Code("SEED023", _G.SEED, "A table has no data columns (only derived ones such as tsvector) and was not seeded."),
    Code("SEED024", _G.SEED, "A string column has a nondeterministic collation (case- or accent-insensitive `=`); a DynamoDB key compares exact bytes."),
    Code("SEED025", _G.SEED, "A table has no key a DynamoDB key can hold (no keyable primary key, unique constraint or column) and was not seeded."),
    Code("SEED030", _G.SEED, "A foreign key names its parent's key differently, so the table was not made a child."),
    Code("SEED031", _G.SEED, "A foreign key references a table that is not in the input; it is kept as a note, not a `references:`."),
    Code("SEED016", _G.SEED, "The database's pg_stats holds no statistics for the tables read (never ANALYZEd); row counts and column statistics are missing."),
    Code("SEED032", _G.SEED, "An entity has more index-served patterns than DynamoDB's 20 GSIs per table can serve; the rest are listed, not seeded."),
    Code("SEED040", _G.SEED, "The --queries file cannot be read."),
    Code("SEED041", _G.SEED, "A query log entry's call count is not a number."),
    Code("SEED042", _G.SEED, "A logged query cannot be a key-served pattern and was not suggested."),
    Code("SEED043", _G.SEED, "A logged write statement has no call count (a plain SQL file), or calls beyond any table's quota, so its entity gets no writes_per_second."),
    Code("SEED051", _G.SEED, "The seeded model would not pass model validate/compile (init's self-check); it is written with the errors listed."),
    Code("SEED050", _G.SEED, "Nothing to seed from: neither --from-ddl nor --from-db."),
    Code("SEED052", _G.SEED, "The seeded model is larger than the model-file size cap, so model validate/compile would refuse it without MODELING_MAX_INPUT_MB."),
    # import: NoSQL Workbench exports
    Code("workbench-read", _G.WORKBENCH, "The export file cannot be read."),
    Code("workbench-json", _G.WORKBENCH, "The export is not valid JSON (or not UTF-8, or nested too deeply)."),
    Code("workbench-duplicate-key", _G.WORKBENCH, "A JSON object repeats a key; the last one is used."),
    Code("workbench-format", _G.WORKBENCH, "The file is not a NoSQL Workbench export of the expected shape (no DataModel, duplicate tables, ...)."),
    Code("workbench-missing", _G.WORKBENCH, "A required key of the Workbench format is absent."),
    Code("workbench-type", _G.WORKBENCH, "A value of the export has the wrong type, or an attribute value is malformed."),
    Code("workbench-table", _G.WORKBENCH, "--table names a table the export lacks."),
    Code("workbench-table-name", _G.WORKBENCH, "A table name is not a valid DynamoDB table name; it was imported under a valid one."),
    Code("workbench-schema-placeholder", _G.WORKBENCH, "A ModelSchema model looks like an editor placeholder and was skipped."),
    Code("workbench-unassigned-items", _G.WORKBENCH, "Table-level sample items fit no single facet and were not assigned to an entity."),
    Code("workbench-duplicate-attribute", _G.WORKBENCH, "A table declares one attribute several times."),
    Code("workbench-unused-attribute", _G.WORKBENCH, "A table declares attributes that no entity uses."),
    Code("workbench-alias-shape", _G.WORKBENCH, "A key alias has a different number of `#` parts than its sample keys; the template was inferred from the samples."),
    Code("workbench-alias-mismatch", _G.WORKBENCH, "A facet alias's literal differs from its sample keys; the samples' literal was used."),
    Code("workbench-key-misfit", _G.WORKBENCH, "Sample key values do not fit the inferred key template."),
    Code("workbench-slot-conflict", _G.WORKBENCH, "A key-template slot differs from the attribute of the same name in sample items."),
    Code("workbench-unkeyable-slot", _G.WORKBENCH, "A key-template slot names an attribute whose type cannot be part of a key."),
    Code("workbench-slot-coincidence", _G.WORKBENCH, "A key part equals an attribute in the sample items, but its tag names something else; it became a slot of its own."),
    Code("workbench-one-sample", _G.WORKBENCH, "A key template's slots were inferred from a single sample key."),
    Code("workbench-adjacent-slots", _G.WORKBENCH, "A Workbench template puts two slots side by side (`${a}${b}`); the model separates them."),
    Code("workbench-self-check", _G.WORKBENCH, "The imported model does not validate or compile; the report says why."),
    Code("workbench-constant-key", _G.WORKBENCH, "An entity's table key has no varying part, so it holds one item."),
    Code("workbench-key-unpinned", _G.WORKBENCH, "An observed table key can equal another entity's; it is left for the compiler to derive."),
    Code("workbench-no-pattern", _G.WORKBENCH, "No pattern is suggested for an index whose partition key is constant."),
    Code("import-output", _G.WORKBENCH, "`-o` does not fit the imported models (one file for several tables, a file where a directory is needed)."),
    Code("import-exists", _G.WORKBENCH, "An output file exists and differs from the import; it is not overwritten without --force."),
)  # fmt: skip

REGISTRY: dict[str, Code] = {c.name: c for c in _LIST}
"""Every code, by name."""

CODES: dict[str, str] = {c.name: c.meaning for c in _LIST}
"""Every code -> its one-line meaning."""


def describe(code: str) -> str:
    """The one-line description of `code` (KeyError for an unlisted code, caught by tests)."""
    return CODES[code]


def groups() -> dict[str, dict[str, str]]:
    """Every code by group, in `Group` order: heading -> {code: meaning} (for the reference)."""
    out: dict[str, dict[str, str]] = {g.value: {} for g in Group}
    for c in _LIST:
        out[c.group.value][c.name] = c.meaning
    return {heading: codes for heading, codes in out.items() if codes}
