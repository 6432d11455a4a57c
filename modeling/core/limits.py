"""DynamoDB's hard limits, in one place: what the compiler, the migrator and verify enforce.

Source: the DynamoDB developer guide, "Service, account, and table quotas" and "Supported data
types and naming rules" (item size counts attribute names and values in UTF-8; key values are
counted in bytes of UTF-8 for S, raw bytes for B). The generated code (stdlib only) receives
these numbers through its emitters, never as literals of its own.
"""

from __future__ import annotations

from typing import Final

from modeling.runtime.keys import KINDS

# -- table shape
MAX_GSIS: Final = 20  # global secondary indexes per table
MAX_LSIS: Final = 5  # local secondary indexes per table (only at table creation)
# a table with an LSI holds at most this much per partition-key value (its items plus their
# LSI entries); a write beyond it fails with ItemCollectionSizeLimitExceededException
ITEM_COLLECTION_BYTES: Final = 10 * 1024**3
# the average item collection the compiler derives an LSI for: a tenth of the limit, as an
# average hides skew (one partition value ten times the average still fits)
LSI_COLLECTION_BUDGET: Final = ITEM_COLLECTION_BYTES // 10

# -- items and keys
ITEM_BYTES: Final = 400 * 1024  # one item, names + values
NUMBER_DIGITS: Final = 38  # significant digits of a DynamoDB number
PARTITION_KEY_BYTES: Final = 2048  # a partition-key value, 1..2048 bytes
SORT_KEY_BYTES: Final = 1024  # a sort-key value, 1..1024 bytes
# attributes nest at most 32 levels, the item itself being the first: an attribute's value may
# hold 31 maps/lists one inside the other (a deeper one fails the whole BatchWriteItem with
# "Nesting Levels have exceeded supported limits"; measured on DynamoDB Local)
NESTED_LEVELS: Final = 32
# an attribute name, also a map key inside a value: 1 byte to less than 64 KB of UTF-8 (an empty
# map key, e.g. jsonb `{"": 1}`, fails the whole BatchWriteItem: "Empty attribute name")
ATTRIBUTE_NAME_BYTES: Final = 64 * 1024 - 1
KEY_ATTRIBUTE_TYPES: Final = ("S", "N", "B")  # key attributes are top-level scalars of these

# Model types a key slot may hold: they have an order-preserving string encoding
# (modeling.runtime.keys.KINDS is the codec's own list; this is the same tuple).
KEYABLE_TYPES: Final = KINDS

# -- requests
BATCH_WRITE_ITEMS: Final = 25  # BatchWriteItem: items per request (no two on one key)
BATCH_WRITE_BYTES: Final = 16 * 1024 * 1024  # BatchWriteItem: bytes per request
BATCH_GET_ITEMS: Final = 100  # BatchGetItem: keys per request
TRANSACT_ITEMS: Final = 100  # TransactWriteItems / TransactGetItems: actions per request
IMPORT_OBJECTS: Final = 50_000  # ImportTable: S3 objects per import ("Import quotas")
QUERY_PAGE_BYTES: Final = 1024 * 1024  # Query/Scan: data read per page before LastEvaluatedKey
# the generated client's page of a sharded partition when the caller gives no page_size: each
# shard is asked for this many matching items (modeling.emit.client; priced by modeling.cost)
SHARD_PAGE_ITEMS: Final = 1000

# -- numbers the API and CloudFormation carry (a larger value cannot be sent at all)
QUERY_LIMIT_MAX: Final = 2**31 - 1  # Query `Limit` is an Integer (1..2^31-1)
CAPACITY_UNITS_MAX: Final = 2**63 - 1  # ProvisionedThroughput read/write units are a Long
TABLE_NAME_RE: Final = r"^[A-Za-z0-9_.-]{3,255}$"  # a DynamoDB table name
FILE_NAME_BYTES: Final = 255  # one path component on Linux, macOS and Windows file systems
# a model name names directories (generated/<model>/, the docs site's <model>/) and is the value
# of the table's `modeling:model` tag (at most 256 characters); names are ASCII
MODEL_NAME_CHARS: Final = FILE_NAME_BYTES
# an entity names a docs page, `entities/<Entity>.md`
ENTITY_NAME_CHARS: Final = FILE_NAME_BYTES - len(".md")
INT4_MAX: Final = 2**31 - 1  # PostgreSQL int4 (pg_stats.avg_width)
BIGINT_MAX: Final = 2**63 - 1  # PostgreSQL bigint: the most rows count(*) can report
RATE_MAX: Final = 1e9  # requests per second a model may declare: far beyond any table's quota

# -- tags (Tagging: "Tag restrictions")
TAG_KEY_CHARS: Final = 128  # a tag key is 1..128 Unicode characters
TAG_VALUE_CHARS: Final = 256  # a tag value is 0..256 Unicode characters
TAGS_PER_RESOURCE: Final = 50  # user tags on one resource
TAG_RESERVED_PREFIX: Final = "aws:"  # AWS's own tags; a user tag key may not start with it

# -- throughput per partition, per second
PARTITION_RCU: Final = 3000
PARTITION_WCU: Final = 1000
