"""`transformers.py`: SQL row -> DynamoDB item -> row, generated per entity.

The generated module imports only the standard library (plus its sibling `_keys.py`, a copy of
`modeling/runtime/keys.py`, so the slot codec has one source) and ships in a Lambda as is. It writes
low-level AttributeValues directly: each entity gets straight-line code (a class check per
attribute, the conversion inline, a slow validating helper only for unusual values), which is
what makes it several times faster than boto3's TypeSerializer (bench/transform.py).

What it produces (the same items as `modeling.sample.codec`, cross-checked in tests):

    string S · integer/decimal/float N (38 significant digits, 1e-130..9.99e125 checked)
    boolean BOOL · date S `YYYY-MM-DD` · datetime S `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC; naive
    values are taken to BE UTC) · uuid S · binary B · map M (nested JSON) · list<T> L
    set<string|integer|decimal|binary> SS/NS/BS (sorted; empty sets omitted) · NULL omitted

The one exception: a `datetime` attribute named by `table.ttl` is N, whole seconds since
1970-01-01 UTC (sub-second part dropped), because DynamoDB's TTL reads only a Number of epoch
seconds; in a key slot it keeps the key codec's text like every datetime. See `is_epoch_ttl`.

Naive and aware datetimes are stored alike (the same text, so keys and order do not depend on
it); reading back, an aware attribute (`timestamptz`, the default) gives an aware datetime in
UTC, a `timezone: false` one (`timestamp`) the naive wall-clock value the row held
(`ir.Attribute.naive`; the runtime's `_naive`).

Generated files: `__init__.py` (marks the package: the modules import each other
relatively), `_keys.py` and `transformers.py`.

The package, one module per part:

    common       generated names (`entity_names`), annotations, `EmitError`, the f-string writer
    attributes   one attribute's conversion code (`attr_code`)
    entities     per entity: to_item / from_item / table_key and the row TypedDict
    patterns     per access pattern: parameters and the key builder (decisions: `modeling.requests`)
    module       the generated files and `emit_transformers`
"""

from __future__ import annotations

from modeling.emit.transformers.attributes import FIXED_SIZE
from modeling.emit.transformers.common import (
    ANNOTATION,
    EmitError,
    EntityNames,
    annotation,
    entity_names,
    is_epoch_ttl,
)
from modeling.emit.transformers.entities import ITEM_LIMIT, PK_LIMIT, SK_LIMIT
from modeling.emit.transformers.module import (
    KEYS_SOURCE,
    MODULE_DOC,
    emit_transformers,
    keys_module,
    package_init,
    transformers_source,
)
from modeling.emit.transformers.patterns import (
    RESERVED_PARAMS,
    PatternParams,
    key_builder,
    key_builder_name,
    pattern_params,
)
from modeling.requests import filter_literals

__all__ = [
    "ANNOTATION",
    "FIXED_SIZE",
    "ITEM_LIMIT",
    "KEYS_SOURCE",
    "MODULE_DOC",
    "PK_LIMIT",
    "RESERVED_PARAMS",
    "SK_LIMIT",
    "EmitError",
    "EntityNames",
    "PatternParams",
    "annotation",
    "emit_transformers",
    "entity_names",
    "filter_literals",
    "is_epoch_ttl",
    "key_builder",
    "key_builder_name",
    "keys_module",
    "package_init",
    "pattern_params",
    "transformers_source",
]
