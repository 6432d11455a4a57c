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

# -- items and keys
ITEM_BYTES: Final = 400 * 1024  # one item, names + values
NUMBER_DIGITS: Final = 38  # significant digits of a DynamoDB number
PARTITION_KEY_BYTES: Final = 2048  # a partition-key value, 1..2048 bytes
SORT_KEY_BYTES: Final = 1024  # a sort-key value, 1..1024 bytes
KEY_ATTRIBUTE_TYPES: Final = ("S", "N", "B")  # key attributes are top-level scalars of these

# Model types a key slot may hold: they have an order-preserving string encoding
# (modeling.runtime.keys.KINDS is the codec's own list; this is the same tuple).
KEYABLE_TYPES: Final = KINDS

# -- requests
BATCH_WRITE_ITEMS: Final = 25  # BatchWriteItem: items per request (no two on one key)
BATCH_WRITE_BYTES: Final = 16 * 1024 * 1024  # BatchWriteItem: bytes per request
BATCH_GET_ITEMS: Final = 100  # BatchGetItem: keys per request
TRANSACT_ITEMS: Final = 100  # TransactWriteItems / TransactGetItems: actions per request
QUERY_PAGE_BYTES: Final = 1024 * 1024  # Query/Scan: data read per page before LastEvaluatedKey

# -- throughput per partition, per second
PARTITION_RCU: Final = 3000
PARTITION_WCU: Final = 1000
